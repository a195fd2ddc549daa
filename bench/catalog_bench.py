"""Catalog API p99 and web UI page time as the catalog grows.

The catalog's database is grown in place (bench/catalog_seed.py) while the
stack runs; at each checkpoint the catalog is asked over HTTP on its own port
(gunicorn, no ingress) and the web UI's pages are timed as bench/webui_bench.py
times them (the server's time from its Server-Timing header).
"""

from __future__ import annotations

from pathlib import Path

import requests

from bench import plot, webui_bench
from bench.catalog_seed import CatalogSeeder
from bench.latency import Timing, measure
from bench.report import Row
from bench.setup import ADMIN
from tests.e2e.support.stack import RunningStack

CATALOG_TARGET_MS = 50.0


def api_token(stack: RunningStack) -> str:
    """An API JWT for the admin (verified locally by every service)."""
    resp = stack.api("POST", "/api/v1/auth/token", auth=ADMIN)
    resp.raise_for_status()
    return str(resp.json()["token"])


def run(stack: RunningStack, database_url: str, *, catalog_sizes: list[int],
        webui_sizes: list[int], requests_per_case: int, label: str,
        plot_dir: Path | None = None) -> list[Row]:
    """Grow to each size in turn; measure what is due at that size."""
    seeder = CatalogSeeder(database_url)
    catalog_base = f"http://127.0.0.1:{stack.port_base + 2}"
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {api_token(stack)}"
    ui, ui_base = webui_bench.session(stack)
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
                pages = webui_bench.measure_pages(
                    ui, ui_base, ns_id, repo_id,
                    webui_bench.requests_per_page(requests_per_case))
                for k, p in pages.items():
                    webui_points[k].append((size, p.server_p99_ms))
                rows.append(webui_bench.row(label, size, pages))
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
