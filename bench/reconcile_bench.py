"""Full reconcile into an empty catalog, an unchanged re-run, and the script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import plot
from bench.registry_seed import seed
from bench.report import Row
from bench.setup import ROOT, bare_registry

TARGET = "≤ 1.3 × script; re-run 0 events; peak RSS ≤ 150 MB"


def _child(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "bench.reconcile_run", *args], check=False,
                         cwd=ROOT, capture_output=True, text=True, timeout=3600,
                         env={**os.environ, **(env or {})})
    if out.returncode != 0:
        raise RuntimeError(f"reconcile run failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _migrate(database_url: str, home: Path) -> None:
    env = {**os.environ, "BERTH_HOME": str(home), "BERTH_SYNCER_DATABASE_URL": database_url,
           "BERTH_LOG_LEVEL": "WARNING"}
    subprocess.run([sys.executable, "-m", "berth.syncer", "migrate"], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=300)


def run(sizes: list[int], scratch: Path) -> list[Row]:
    """Seed the registry up to each size in turn and measure there."""
    storage = scratch / "reconcile-registry"
    storage.mkdir(parents=True, exist_ok=True)
    rows, points = [], []
    seeded = 0
    with bare_registry(storage) as host:
        url = f"http://{host}"
        for n in sorted(sizes):
            seed(host, n, start=seeded)
            seeded = n
            home = scratch / f"reconcile-{n}"
            home.mkdir(exist_ok=True)
            db = f"sqlite:///{home / 'syncer.sqlite'}"
            _migrate(db, home)
            script = _child("script", url, str(home))
            first = _child("berth", url, str(home), db)
            again = _child("berth", url, str(home), db)
            script2 = _child("script", url, str(home))
            base = min(script["seconds"], script2["seconds"])
            ratio = first["seconds"] / base if base else None
            rss = max(first["peak_rss_mb"], again["peak_rss_mb"])
            complete = first["added"] == 4 * n and first["errors"] == 0
            met = bool(ratio and ratio <= 1.3 and again["published"] == 0
                       and rss <= 150 and complete)
            rows.append(Row(
                benchmark="reconcile", case=f"{n} repos × 4 tags, empty catalog",
                berth=(f"{first['seconds']:.1f} s ({first['added']} added, "
                       f"{first['published']} events), re-run {again['seconds']:.1f} s "
                       f"/ {again['published']} events, peak RSS {rss:.0f} MB"),
                baseline=f"script {base:.1f} s ({script['tags']} tags listed)",
                ratio=ratio, target=TARGET, met=met,
                raw={"berth": first, "rerun": again, "script": [script, script2]}))
            points.append((n, first["seconds"], again["seconds"], base, rss))
    plot.lines("reconcile", "repositories (× 4 tags)", "seconds",
               {"Berth, empty catalog": [(p[0], p[1]) for p in points],
                "Berth, unchanged re-run": [(p[0], p[2]) for p in points],
                "plain script": [(p[0], p[3]) for p in points]})
    return rows
