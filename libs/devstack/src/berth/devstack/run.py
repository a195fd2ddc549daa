"""`make run`: generate configuration, migrate, then run everything under
supervisord (which restarts a crashed child) until Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType

import requests
from berth.devstack.generate import generate
from berth.devstack.layout import Stack, service_env


def migrate(stack: Stack, services: list[str]) -> None:
    """Run each service's migrations (idempotent)."""
    env = {**os.environ, **service_env(stack)}
    for svc in services:
        if svc == "webui":
            continue
        subprocess.run([sys.executable, "-m", f"berth.{svc}", "migrate"], env=env,
                       check=True)


def wait_ready(stack: Stack, proc: subprocess.Popen[bytes], timeout: float = 90) -> bool:
    """True once the ingress answers a ping routed to the catalog."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if requests.get(f"{stack.public_url}/api/v1/_ping", timeout=1).ok:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.3)
    return False


def main() -> int:
    """Entry point of `berth-run`."""
    stack = Stack.from_env()
    services = generate(stack)
    migrate(stack, services)
    conf = stack.path("supervisord.conf")
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "supervisord"),
                             "-n", "-c", str(conf)], start_new_session=False)

    def forward(signum: int, _frame: FrameType | None) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    ready = wait_ready(stack, proc)
    if not ready and proc.poll() is None:
        # A slow machine: say so, and keep waiting as long as Berth runs.
        print(f"Berth started but {stack.public_url} is not answering yet; "
              f"see {stack.path('logs')}", flush=True)
        ready = wait_ready(stack, proc, timeout=float("inf"))
    if ready:
        print(f"Berth is ready at {stack.public_url}  (logs: {stack.path('logs')})",
              flush=True)
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
