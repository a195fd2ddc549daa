"""Time from the end of a push to the tag being listed by the API."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.report import Row, percentile
from bench.setup import ADMIN
from tests.e2e.support.clients import Skopeo
from tests.e2e.support.oci import simple_image
from tests.e2e.support.stack import RunningStack


class ApiError(Exception):
    """The API answered with an error while the benchmark polled it."""


def _json(resp: Any) -> Any:
    if resp.status_code != 200:
        raise ApiError(f"{resp.status_code} {resp.text[:300]}")
    return resp.json()


def _tags(stack: RunningStack, auth: dict[str, str], full_name: str) -> set[str]:
    repos = _json(stack.api("GET", "/api/v1/repositories", params={"all": "true"},
                            headers=auth))
    for repo in repos:
        if repo.get("full_name") == full_name:
            # every tag: a page holds 15, and the pushes add up to 200
            tags = _json(stack.api("GET", f"/api/v1/repositories/{repo['id']}/tags",
                                   params={"all": "true"}, headers=auth))
            return {t["name"] for t in tags}
    return set()


def _visible(stack: RunningStack, auth: dict[str, str], repo: str, tag: str,
             errors: list[str]) -> bool:
    try:
        return tag in _tags(stack, auth, repo)
    except ApiError as exc:  # counted and reported, the polling goes on
        errors.append(str(exc))
        return False


def run(stack: RunningStack, app_token: str, pushes: int, scratch: Path,
        label: str) -> list[Row]:
    """Push ``pushes`` distinct tags; poll the API after each one."""
    creds = f"{ADMIN[0]}:{app_token}"
    auth = {"Portus-Auth": creds}
    repo = f"{ADMIN[0]}/visible"
    skopeo = Skopeo(stack.host)
    delays = []
    errors: list[str] = []
    for i in range(pushes):
        layout = scratch / f"img{i}"
        simple_image(layout, f"t{i}", content=f"visible-{i}")
        res = skopeo.push(layout, f"t{i}", repo, creds)
        if not res.ok:
            raise RuntimeError(f"push failed: {res.err}")
        done = time.perf_counter()
        deadline = done + 30
        while not _visible(stack, auth, repo, f"t{i}", errors):
            if time.perf_counter() > deadline:
                raise RuntimeError(f"t{i} not visible after 30 s; "
                                   f"API errors: {errors[-3:]}")
            time.sleep(0.01)
        delays.append(time.perf_counter() - done)
    p50, p99 = percentile(delays, 50) * 1000, percentile(delays, 99) * 1000
    return [Row(benchmark="push → visible", case=f"{label}, {pushes} pushes",
                berth=f"p50 {p50:.0f} ms, p99 {p99:.0f} ms"
                      + (f", {len(errors)} API errors while polling" if errors else ""),
                baseline="—", ratio=None, target="p50 ≤ 250 ms, p99 ≤ 1 s",
                met=p50 <= 250 and p99 <= 1000 and not errors,
                raw={"delays_s": delays, "api_errors": errors[:20]})]
