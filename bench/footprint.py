"""Idle RSS of every service process of the running stack (psutil)."""

from __future__ import annotations

import time

import psutil

from bench.report import Row
from tests.e2e.support.stack import RunningStack

TARGET_MB = 80.0


def _role(cmdline: list[str]) -> str | None:
    text = " ".join(cmdline)
    for svc in ("token", "catalog", "syncer", "audit", "webui"):
        if f"berth.{svc}.wsgi" in text:
            return f"{svc} (gunicorn)"
        if f"berth.{svc} worker" in text:
            return f"{svc}-worker"
    return None


def run(stack: RunningStack, settle: float = 3.0) -> list[Row]:
    """One row per role: its processes' RSS (workers, and gunicorn masters apart)."""
    assert stack.proc is not None
    time.sleep(settle)  # let the last requests finish: idle means idle
    root = psutil.Process(stack.proc.pid)
    by_role: dict[str, list[tuple[str, float]]] = {}
    for proc in root.children(recursive=True):
        try:
            role = _role(proc.cmdline())
            if role is None:
                continue
            parent_role = _role(proc.parent().cmdline()) if proc.parent() else None
            kind = "worker" if parent_role == role else "master"
            by_role.setdefault(role, []).append((kind, proc.memory_info().rss / 2**20))
        except psutil.Error:
            continue
    rows = []
    for role, procs in sorted(by_role.items()):
        workers = [mb for kind, mb in procs if kind == "worker"] or [mb for _, mb in procs]
        masters = [mb for kind, mb in procs if kind == "master" and len(procs) > 1]
        peak = max(workers)
        text = f"{peak:.0f} MB (largest of {len(workers)})"
        if masters:
            text += f", master {max(masters):.0f} MB"
        rows.append(Row(benchmark="footprint", case=role, berth=text,
                        baseline="—", ratio=None, target=f"≤ {TARGET_MB:.0f} MB",
                        met=peak <= TARGET_MB,
                        raw={"workers_mb": workers, "masters_mb": masters}))
    return rows
