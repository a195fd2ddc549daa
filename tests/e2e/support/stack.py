"""Starts the stack exactly as `make run` does (berth-run), on free ports in a
temporary BERTH_HOME, and stops it leaving nothing behind."""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

READY = "Berth is ready at"


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_block(size: int = 6) -> int:
    """A base port such that base .. base+size-1 are all free."""
    for _ in range(200):
        base = random.randrange(20000, 60000, 10)
        if all(_free(base + i) for i in range(size)):
            return base
    raise RuntimeError("no free port block")


def port_open(port: int) -> bool:
    """True when something listens on 127.0.0.1:port."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


_ERROR_LINE = re.compile(r'"level": "(error|critical|warning)"|Traceback|\[(ERROR|CRITICAL)\]')


class RunningStack:
    """One `berth-run` process tree."""

    def __init__(self, home: Path, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.port_base = free_port_block()
        self.port = self.port_base + 9
        self.env = {**os.environ, "BERTH_HOME": str(home), "BERTH_PORT": str(self.port),
                    "BERTH_PORT_BASE": str(self.port_base), **(env or {})}
        self.proc: subprocess.Popen[str] | None = None
        self.log_path = home / "berth-run.log"

    @property
    def host(self) -> str:
        """host:port of the origin (what docker clients use)."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The origin's URL."""
        return f"http://{self.host}"

    def start(self, timeout: float = 300) -> None:
        """Run berth-run and wait for its ready line."""
        self.home.mkdir(parents=True, exist_ok=True)
        exe = Path(sys.executable).parent / "berth-run"
        log = self.log_path.open("w")
        self.proc = subprocess.Popen([str(exe)], env=self.env, stdout=log,
                                     stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if READY in self.log_path.read_text():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        raise RuntimeError(f"stack did not start:\n{self.log_path.read_text()[-4000:]}")

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM like Ctrl-C would, and wait for every child to go."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.proc = None

    def ports(self) -> list[int]:
        """Every port the stack listens on."""
        return [self.port] + [self.port_base + i for i in range(6)]

    def supervisorctl(self, *args: str) -> str:
        """Run supervisorctl against this stack (stop/start a part)."""
        exe = Path(sys.executable).parent / "supervisorctl"
        out = subprocess.run([str(exe), "-c", str(self.home / "supervisord.conf"), *args],
                             check=False, capture_output=True, text=True, timeout=60)
        return out.stdout + out.stderr

    def api(self, method: str, path: str, **kw: Any) -> requests.Response:
        """A request to the origin."""
        kw.setdefault("timeout", 30)
        return requests.request(method, self.url + path, **kw)

    def log(self, part: str) -> str:
        """The log of one supervised program."""
        path = self.home / "logs" / f"{part}.log"
        return path.read_text() if path.exists() else ""

    def error_lines(self, limit: int = 40) -> list[str]:
        """The newest error and warning lines of every program's log, marked
        with the program: what a failed scenario reports about the stack."""
        found: list[str] = []
        for path in sorted((self.home / "logs").glob("*.log")):
            for line in path.read_text(errors="replace").splitlines():
                if _ERROR_LINE.search(line):
                    found.append(f"{path.stem}: {line[:2000]}")
        return found[-limit:]
