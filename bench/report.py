"""Results: the machine, each benchmark's figures and ratio, JSON and Markdown."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


@dataclass
class Row:
    """One line of the table."""

    benchmark: str
    case: str
    berth: str
    baseline: str
    ratio: float | None
    target: str
    met: bool | None
    raw: dict[str, Any] = field(default_factory=dict)


def machine() -> dict[str, Any]:
    """What this run ran on (numbers drift between machines: compare ratios)."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    load = os.getloadavg()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False,
                            capture_output=True,
                            text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem / 2**30, 1),
            "python": platform.python_version(), "kernel": platform.release(),
            "load_average": [round(x, 2) for x in load], "commit": commit}


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1))
    return ordered[rank]


def median(values: list[float]) -> float:
    """The median of ``values``."""
    return statistics.median(values) if values else float("nan")


def save(rows: list[Row], full: bool, directory: Path | None = None) -> Path:
    """Write ``<directory>/<date>.json`` (default ``bench/results``); return its path."""
    directory = directory or RESULTS
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    path = directory / f"{now:%Y-%m-%d}{'-full' if full else ''}.json"
    path.write_text(json.dumps({"date": now.isoformat(), "full": full,
                                "machine": machine(),
                                "results": [asdict(r) for r in rows]}, indent=2))
    return path


def table(rows: list[Row]) -> str:
    """The Markdown table printed at the end of a run."""
    out = ["| benchmark | case | Berth | baseline | ratio | target | met |",
           "|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "—"
        met = {True: "yes", False: "**no**", None: "—"}[r.met]
        out.append(f"| {r.benchmark} | {r.case} | {r.berth} | {r.baseline} | {ratio} "
                   f"| {r.target} | {met} |")
    return "\n".join(out)
