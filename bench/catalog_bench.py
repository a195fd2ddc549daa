"""Catalog API p99 and web UI page time as the catalog grows.

The catalog's database is grown in place (bench/catalog_seed.py) while the
stack runs; at each checkpoint the catalog is asked over HTTP on its own port
(gunicorn, no ingress) and the web UI's pages are fetched by a signed-in
browser session on the web UI's port.
"""

from __future__ import annotations

import re
from pathlib import Path

import requests

from bench import plot
from bench.catalog_seed import CatalogSeeder
from bench.latency import Timing, measure
from bench.report import Row
from bench.setup import ADMIN
from tests.e2e.support.stack import RunningStack

CATALOG_TARGET_MS = 50.0
WEBUI_TARGET_MS = 200.0


def api_token(stack: RunningStack) -> str:
    """An API JWT for the admin (verified locally by every service)."""
    resp = stack.api("POST", "/api/v1/auth/token", auth=ADMIN)
    resp.raise_for_status()
    return str(resp.json()["token"])


def webui_session(stack: RunningStack) -> tuple[requests.Session, str]:
    """A browser-like session signed in to the web UI on its own port."""
    base = f"http://127.0.0.1:{stack.port_base + 5}"
    http = requests.Session()
    form = http.get(f"{base}/login", timeout=30).text
    match = re.search(r'name="csrf_token"\s+value="([^"]+)"', form)
    data = {"username": ADMIN[0], "password": ADMIN[1]}
    if match:
        data["csrf_token"] = match.group(1)
    resp = http.post(f"{base}/login", data=data, timeout=30, allow_redirects=False)
    if resp.status_code not in (302, 303):
        raise RuntimeError(f"web UI login answered {resp.status_code}")
    return http, base


def run(stack: RunningStack, database_url: str, *, catalog_sizes: list[int],
        webui_sizes: list[int], requests_per_case: int, label: str,
        plot_dir: Path | None = None) -> list[Row]:
    """Grow to each size in turn; measure what is due at that size."""
    seeder = CatalogSeeder(database_url)
    catalog_base = f"http://127.0.0.1:{stack.port_base + 2}"
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {api_token(stack)}"
    ui, ui_base = webui_session(stack)
    catalog_points: dict[str, list[tuple[float, float]]] = {
        "repository list": [], "search": [], "tag list": []}
    webui_points: dict[str, list[tuple[float, float]]] = {
        "dashboard": [], "namespace": [], "repository": []}
    rows: list[Row] = []
    try:
        for size in sorted(set(catalog_sizes) | set(webui_sizes)):
            seeder.grow(size)
            ns_id, repo_id = seeder.sample()
            if size in catalog_sizes:
                cases = {
                    "repository list": f"{catalog_base}/api/v1/repositories",
                    "search": f"{catalog_base}/api/v1/search?q=app00001",
                    "tag list": f"{catalog_base}/api/v1/repositories/{repo_id}/tags"}
                timings = {k: measure(api, u, requests_per_case) for k, u in cases.items()}
                for k, t in timings.items():
                    catalog_points[k].append((size, t.p99_ms))
                rows.append(_row("catalog", f"{label}, {size} repos / "
                                 f"{size * seeder.tags_per_repo} tags", timings,
                                 CATALOG_TARGET_MS))
            if size in webui_sizes:
                pages = {"dashboard": f"{ui_base}/",
                         "namespace": f"{ui_base}/namespaces/{ns_id}",
                         "repository": f"{ui_base}/repositories/{repo_id}"}
                timings = {k: measure(ui, u, max(requests_per_case // 4, 5))
                           for k, u in pages.items()}
                for k, t in timings.items():
                    webui_points[k].append((size, t.p99_ms))
                rows.append(_row("web UI", f"{label}, {size} repos", timings,
                                 WEBUI_TARGET_MS))
    finally:
        seeder.close()
    plot.lines("catalog", "repositories (× 10 tags)", "p99 ms", catalog_points,
               plot_dir)
    plot.lines("webui", "repositories", "p99 ms (server)", webui_points, plot_dir)
    return rows


def _row(benchmark: str, case: str, timings: dict[str, Timing], target: float) -> Row:
    worst = max(t.p99_ms for t in timings.values())
    return Row(benchmark=benchmark, case=case,
               berth="; ".join(f"{k} {t.text()}" for k, t in timings.items()),
               baseline="—", ratio=None, target=f"p99 ≤ {target:.0f} ms each",
               met=worst <= target, raw={k: vars(t) for k, t in timings.items()})
