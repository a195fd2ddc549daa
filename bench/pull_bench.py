"""Median wall time of skopeo pulls through Berth vs the bare registry."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from bench.report import Row, median
from bench.setup import ADMIN, bare_registry
from tests.e2e.support.clients import Skopeo
from tests.e2e.support.oci import simple_image
from tests.e2e.support.stack import RunningStack


def _timed_pull(skopeo: Skopeo, repo: str, creds: str | None, scratch: Path) -> float:
    dest = Path(tempfile.mkdtemp(dir=scratch))
    started = time.perf_counter()
    res = skopeo.pull(repo, "v1", dest, creds)
    elapsed = time.perf_counter() - started
    shutil.rmtree(dest, ignore_errors=True)
    if not res.ok:
        raise RuntimeError(f"pull failed: {res.err}")
    return elapsed


def run(stack: RunningStack, app_token: str, pulls: int, scratch: Path) -> list[Row]:
    """Push a 5-layer image once, then alternate pulls through each path."""
    creds = f"{ADMIN[0]}:{app_token}"
    repo = f"{ADMIN[0]}/pullbench"
    layout = scratch / "image"
    simple_image(layout, "v1", content="pull", layers=5, layer_size=200_000)
    berth = Skopeo(stack.host)
    res = berth.push(layout, "v1", repo, creds)
    if not res.ok:
        raise RuntimeError(f"push failed: {res.err}")
    through, bare = [], []
    with bare_registry(stack.home / "registry" / "data") as bare_host:
        direct = Skopeo(bare_host)
        _timed_pull(berth, repo, creds, scratch)  # warm both paths
        _timed_pull(direct, repo, None, scratch)
        for _ in range(pulls):
            through.append(_timed_pull(berth, repo, creds, scratch))
            bare.append(_timed_pull(direct, repo, None, scratch))
    ratio = median(through) / median(bare)
    return [Row(benchmark="pull overhead", case=f"{pulls} pulls, 5 layers",
                berth=f"median {median(through) * 1000:.0f} ms",
                baseline=f"median {median(bare) * 1000:.0f} ms (no auth, no ingress)",
                ratio=ratio, target="≤ 1.25 ×", met=ratio <= 1.25,
                raw={"berth_s": through, "baseline_s": bare})]
