"""The gunicorn settings every service starts from: a worker does not outlive
its master."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# The parent forks a child that asks to die with it, prints the child's pid and
# sleeps; the test then kills the parent outright, as the OOM killer would.
PARENT = """
import os, sys, time
from berth.common.gunicorn_defaults import die_with_parent
parent = os.getpid()
child = os.fork()
if child == 0:
    die_with_parent(parent)
    time.sleep(120)
    os._exit(0)
print(child, flush=True)
time.sleep(120)
"""


def _gone(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        state = next(line for line in status.read_text().splitlines()
                     if line.startswith("State:"))
    except (FileNotFoundError, ProcessLookupError):
        return True
    return "Z" in state.split()[1]  # a zombie nobody reaped has ended too


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_a_worker_ends_when_its_master_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        time.sleep(0.2)
        assert not _gone(child)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while not _gone(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(child)
    finally:
        parent.kill()
        parent.wait(timeout=10)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_a_child_whose_parent_is_already_gone_ends_at_once() -> None:
    code = ("import os, time\n"
            "from berth.common.gunicorn_defaults import die_with_parent\n"
            "die_with_parent(os.getppid() + 1000000)\n"
            "time.sleep(30)\n")
    proc = subprocess.run([sys.executable, "-c", code], check=False, timeout=20)
    assert proc.returncode == -signal.SIGTERM
