"""Web UI page time as the catalog grows: the dashboard, a namespace and a
repository page, fetched by a signed-in session on the web UI's own port.

The figure that counts is the server's: the web UI's ``Server-Timing`` header
(``app`` = the whole request in the web UI, ``upstream`` = the durations of
its API calls, summed: the dashboard makes its calls concurrently, so there
it can exceed ``app``). The client's wall time is kept beside it.
"""

from __future__ import annotations

import re
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench import plot, push_visible
from bench.catalog_seed import CatalogSeeder
from bench.report import Row, median, percentile
from bench.setup import ADMIN, bootstrap_admin
from tests.e2e.support.stack import RunningStack

TARGET_MS = 200.0
_METRIC = re.compile(r"(\w+);dur=([0-9.]+)")


@dataclass
class PageTiming:
    """One page's figures in milliseconds: server (and its upstream part), client."""

    server_p50_ms: float
    server_p99_ms: float
    upstream_p50_ms: float
    upstream_p99_ms: float
    client_p50_ms: float
    client_p99_ms: float
    requests: int
    # Median wait per service called (catalog, token, audit...), from the header.
    services_p50_ms: dict[str, float] = field(default_factory=dict)

    def text(self) -> str:
        """``server p50 x ms, p99 y ms (upstream p99 z ms; client p99 w ms)``."""
        return (f"server p50 {self.server_p50_ms:.1f} ms, p99 {self.server_p99_ms:.1f} ms"
                f" (upstream p99 {self.upstream_p99_ms:.1f} ms;"
                f" client p99 {self.client_p99_ms:.1f} ms)")


def server_timing(header: str | None) -> dict[str, float]:
    """``{"app": ms, "upstream": ms}`` from a ``Server-Timing`` header."""
    return {name: float(dur) for name, dur in _METRIC.findall(header or "")}


def session(stack: RunningStack) -> tuple[requests.Session, str]:
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


def measure_page(http: requests.Session, url: str, count: int, *,
                 warmup: int = 3) -> PageTiming:
    """GET ``url`` ``count`` times after ``warmup`` unmeasured ones; 2xx only."""
    server: list[float] = []
    upstream: list[float] = []
    client: list[float] = []
    services: dict[str, list[float]] = {}
    for i in range(warmup + count):
        started = time.perf_counter()
        resp = http.get(url, timeout=60)
        elapsed = (time.perf_counter() - started) * 1000
        if resp.status_code >= 300:
            raise RuntimeError(f"GET {url}: {resp.status_code} {resp.text[:300]}")
        timing = server_timing(resp.headers.get("Server-Timing"))
        if "app" not in timing:
            raise RuntimeError(f"GET {url}: no Server-Timing from the web UI")
        if i >= warmup:
            server.append(timing["app"])
            upstream.append(timing.get("upstream", 0.0))
            client.append(elapsed)
            for name, ms in timing.items():
                if name not in ("app", "upstream"):
                    services.setdefault(name, []).append(ms)
    return PageTiming(median(server), percentile(server, 99), median(upstream),
                      percentile(upstream, 99), median(client), percentile(client, 99),
                      count, {name: median(v + [0.0] * (count - len(v)))
                              for name, v in services.items()})


def measure_pages(http: requests.Session, base: str, ns_id: int, repo_id: int,
                  count: int) -> dict[str, PageTiming]:
    """The three pages that grow with the catalog."""
    pages = {"dashboard": f"{base}/", "namespace": f"{base}/namespaces/{ns_id}",
             "repository": f"{base}/repositories/{repo_id}"}
    return {name: measure_page(http, url, count) for name, url in pages.items()}


def row(label: str, size: int, timings: dict[str, PageTiming]) -> Row:
    """One table row; the target is on the server's p99 of every page."""
    worst = max(t.server_p99_ms for t in timings.values())
    return Row(benchmark="web UI", case=f"{label}, {size} repos",
               berth="; ".join(f"{k} {t.text()}" for k, t in timings.items()),
               baseline="—", ratio=None, target=f"server p99 ≤ {TARGET_MS:.0f} ms each",
               met=worst <= TARGET_MS, raw={k: asdict(t) for k, t in timings.items()})


def requests_per_page(requests_per_case: int) -> int:
    """Pages cost more than API calls: a quarter of the API count, at least 5."""
    return max(requests_per_case // 4, 5)


def run(stack: RunningStack, database_url: str, *, sizes: list[int],
        requests_per_case: int, label: str, plot_dir: Path | None = None) -> list[Row]:
    """Grow the catalog to each size in turn and time the pages there."""
    seeder = CatalogSeeder(database_url)
    http, base = session(stack)
    points: dict[str, list[tuple[float, float]]] = {
        "dashboard": [], "namespace": [], "repository": []}
    rows: list[Row] = []
    try:
        for size in sorted(sizes):
            seeder.grow(size)
            ns_id, repo_id = seeder.sample()
            timings = measure_pages(http, base, ns_id, repo_id,
                                    requests_per_page(requests_per_case))
            for name, t in timings.items():
                points[name].append((size, t.server_p99_ms))
            rows.append(row(label, size, timings))
    finally:
        seeder.close()
    plot.lines("webui", "repositories", "p99 ms (server)", points, plot_dir)
    return rows


def mysql_pass(scratch: Path, sizes: dict[str, Any]) -> list[Row]:
    """The web UI benchmark alone, on a MariaDB + RabbitMQ stack (the full pass)."""
    from berth.common.testing import mysql_database, rabbitmq_vhost

    with ExitStack() as cleanup:
        amqp = cleanup.enter_context(rabbitmq_vhost())
        databases = {svc: cleanup.enter_context(mysql_database(f"berth_bench_{svc}"))
                     for svc in ("token", "catalog", "syncer", "audit")}
        env = {"BERTH_LOG_LEVEL": "WARNING", "BERTH_AMQP_URL": amqp,
               **{f"BERTH_{svc.upper()}_DATABASE_URL": url
                  for svc, url in databases.items()}}
        stack = RunningStack(scratch / "home-webui", env=env)
        stack.start(timeout=300)  # migrations on MariaDB are slow on a busy machine
        try:
            # One real push registers the registry the seeded rows hang from.
            push_visible.run(stack, bootstrap_admin(stack), 1, scratch, "MariaDB")
            return run(stack, databases["catalog"], sizes=sizes["webui"],
                       requests_per_case=sizes["requests"], label="MariaDB")
        finally:
            stack.stop()
