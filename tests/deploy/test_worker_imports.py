"""The bus workers stay small: none of them imports the web stack (Flask,
Werkzeug, Jinja), which only the gunicorn-served apps need, nor Alembic (only
``migrate`` needs it) or the JWT stack (workers verify no tokens)."""

from __future__ import annotations

import subprocess
import sys

import pytest

# `python -m berth.<svc> worker` imports the package's __main__ first.
WORKERS = ["berth.catalog.__main__", "berth.audit.__main__", "berth.syncer.__main__",
           "berth.audit.worker", "berth.syncer.worker", "berth.syncer.scanning.worker"]
WEB = ("flask", "werkzeug", "jinja2", "alembic", "jwt")


@pytest.mark.parametrize("module", WORKERS)
def test_a_worker_imports_neither_the_web_stack_nor_migrations(module: str) -> None:
    code = (f"import sys, {module}\n"
            f"print(','.join(m for m in {WEB!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "", f"{module} imports {out.stdout.strip()}"
