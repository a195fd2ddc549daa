"""The bus workers stay small: none of them imports the web stack (Flask,
Werkzeug, Jinja), which only the gunicorn-served apps need."""

from __future__ import annotations

import subprocess
import sys

import pytest

WORKERS = ["berth.catalog.__main__", "berth.audit.worker", "berth.syncer.worker",
           "berth.syncer.scanning.worker", "berth.catalog.webhooks.dispatcher"]
WEB = ("flask", "werkzeug", "jinja2")


@pytest.mark.parametrize("module", WORKERS)
def test_a_worker_does_not_import_the_web_stack(module: str) -> None:
    code = (f"import sys, {module}\n"
            f"print(','.join(m for m in {WEB!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "", f"{module} imports {out.stdout.strip()}"
