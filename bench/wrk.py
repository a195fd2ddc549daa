"""Load from a second process: wrk, parsed into req/s and latency percentiles."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass
class Load:
    """What wrk measured."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    if not m:
        raise ValueError(f"cannot parse latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def run(url: str, *, seconds: int, connections: int = 16, threads: int = 2,
        headers: dict[str, str] | None = None) -> Load:
    """Run wrk against ``url`` and parse its report."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
           "--timeout", "5s"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run(cmd + [url], check=False, capture_output=True, text=True,
                         timeout=seconds + 60).stdout
    return parse(out)


def parse(out: str) -> Load:
    """wrk's ``--latency`` report as a Load."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                              r"timeout (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    done = re.search(r"(\d+) requests in", out)
    return Load(rps=rps, p50_ms=p50, p99_ms=p99, errors=errors,
                requests=int(done.group(1)) if done else 0)


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (a gunicorn master and its workers)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except FileNotFoundError:
            continue
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes ``pids`` have used so far."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (after state)
    return total / os.sysconf("SC_CLK_TCK")


def run_measured(url: str, pids: list[int], *, seconds: int,
                 headers: dict[str, str] | None = None) -> tuple[Load, float]:
    """:func:`run`, and the server's CPU milliseconds per request: on a shared
    machine, what each request costs is steadier than how many fit in a second."""
    before = cpu_seconds(pids)
    load = run(url, seconds=seconds, headers=headers)
    used = cpu_seconds(pids) - before
    return load, (1000 * used / load.requests if load.requests else float("nan"))
