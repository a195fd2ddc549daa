"""The benchmark harness runs end to end on tiny sizes (seconds, not minutes).

The benchmarks themselves are `make bench`; this only proves the harness
works against the real services, so that `make bench` does not rot.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import wrk
from bench.__main__ import main
from bench.report import Row, percentile, table

pytestmark = pytest.mark.e2e

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:5001/v2/token
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     7.10ms    2.00ms  40.00ms   90.00%
  Latency Distribution
     50%    6.50ms
     75%    7.80ms
     90%    9.10ms
     99%    1.20s
  4000 requests in 5.00s, 3.00MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:    800.50
Transfer/sec:    600.00KB
"""


def test_wrk_report_is_parsed_with_units_and_errors() -> None:
    load = wrk.parse(WRK_OUTPUT)
    assert load.rps == pytest.approx(800.5)
    assert load.p50_ms == pytest.approx(6.5)
    assert load.p99_ms == pytest.approx(1200.0)
    assert load.errors == 7
    assert load.requests == 4000


def test_cpu_per_request_counts_a_process_and_its_children() -> None:
    import os
    import subprocess
    import sys
    import time

    # A parent that burns CPU in a child: the tree's time includes the child's.
    code = ("import os, subprocess, sys, time\n"
            "child = subprocess.Popen([sys.executable, '-c', "
            "'import time\\nend = time.process_time() + 0.5\\n"
            "while time.process_time() < end: pass\\ntime.sleep(30)'])\n"
            "print(child.pid, flush=True)\n"
            "time.sleep(30)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        tree = wrk.process_tree(parent.pid)
        assert tree[0] == parent.pid and child in tree
        deadline = time.monotonic() + 20
        while wrk.cpu_seconds([child]) < 0.4 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert wrk.cpu_seconds(tree) >= 0.4
        assert wrk.cpu_seconds([os.getpid()]) > 0
    finally:
        for pid in wrk.process_tree(parent.pid)[1:]:
            os.kill(pid, 9)
        parent.kill()
        parent.wait(timeout=10)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0


def test_table_marks_missed_targets() -> None:
    out = table([Row("token", "case", "1 req/s", "2 req/s", 0.5, "≥ 1", False)])
    assert "| token | case | 1 req/s | 2 req/s | 0.50 | ≥ 1 | **no** |" in out


def _results(directory: Path) -> list[dict[str, object]]:
    (path,) = directory.glob("*.json")
    data = json.loads(path.read_text())
    assert data["machine"]["cores"] >= 1
    return list(data["results"])


def test_reconcile_runs_on_a_tiny_registry(tmp_path: Path) -> None:
    assert main(["--tiny", "--only", "reconcile", "--results", str(tmp_path)]) == 0
    rows = _results(tmp_path)
    assert [r["benchmark"] for r in rows] == ["reconcile"] * 3
    for row, size in zip(rows, (3, 6, 10), strict=True):
        raw = row["raw"]
        assert raw["berth"]["added"] == 4 * size  # every seeded tag became an event
        assert raw["rerun"]["published"] == 0     # nothing changed, nothing sent
        assert raw["script"][0]["tags"] == 4 * size
    assert (tmp_path / "reconcile.png").stat().st_size > 1000


def test_catalog_audit_and_footprint_run_on_the_stack(tmp_path: Path) -> None:
    assert main(["--tiny", "--only", "catalog", "audit", "footprint",
                 "--results", str(tmp_path)]) == 0
    rows = _results(tmp_path)
    kinds = {r["benchmark"] for r in rows}
    assert kinds == {"catalog", "web UI", "audit", "footprint"}
    audits = [r for r in rows if r["benchmark"] == "audit" and "verify_s" in r["raw"]]
    assert len(audits) == 3 and all(r["raw"]["intact"] for r in audits)
    roles = {r["case"] for r in rows if r["benchmark"] == "footprint"}
    assert "token (gunicorn)" in roles and "audit-worker" in roles
    for name in ("catalog", "webui", "audit-query", "audit-verify"):
        assert (tmp_path / f"{name}.png").exists()
