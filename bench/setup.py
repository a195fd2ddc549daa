"""Shared set-up: a running stack with an admin, images, a bare baseline server."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from berth.common.gunicorn_defaults import settings as gunicorn_settings

from tests.e2e.support.stack import RunningStack, free_port_block

ROOT = Path(__file__).resolve().parents[1]
ADMIN = ("benchadmin", "bench-password-123")


def bootstrap_admin(stack: RunningStack) -> str:
    """Create the first admin and return its application token."""
    resp = stack.api("POST", "/api/v1/users/bootstrap", json={"user": {
        "username": ADMIN[0], "email": "bench@example.test", "password": ADMIN[1]}})
    resp.raise_for_status()
    return str(resp.json()["plain_token"])


@contextmanager
def gunicorn_baseline(app: str = "bench.baseline_app:app") -> Iterator[tuple[str, int]]:
    """Run ``app`` under the token service's gunicorn settings; yield its URL
    and the master's pid."""
    port = free_port_block(1)
    s = gunicorn_settings("token", port)
    cmd = [str(Path(sys.executable).parent / "gunicorn"), "-b", f"127.0.0.1:{port}",
           "-w", str(s["workers"]), "--threads", str(s["threads"]),
           "-k", s["worker_class"], app]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(url + "/v2/token", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def bare_registry(storage: Path) -> Iterator[str]:
    """The same registry binary on the same storage, without auth or ingress."""
    port = free_port_block(1)
    config = storage.parent / f"bare-{port}.yml"
    config.write_text(
        "version: 0.1\nlog: {level: error}\n"
        f"storage: {{filesystem: {{rootdirectory: {storage}}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}}}\n")
    proc = subprocess.Popen(["docker-registry", "serve", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    host = f"127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"http://{host}/v2/", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        yield host
    finally:
        proc.terminate()
        proc.wait(10)
