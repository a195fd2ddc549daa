"""Prometheus helpers: naming, a per-service registry, ``/metrics``, multiprocess."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

if TYPE_CHECKING:
    from flask import Flask


def metric_name(service: str, name: str) -> str:
    """``berth_<service>_<name>``: the one naming rule for metrics."""
    return f"berth_{service}_{name}"


class HttpMetrics:
    """Request count and latency, labelled by endpoint (bounded), not by path."""

    def __init__(self, service: str, registry: CollectorRegistry | None = None) -> None:
        kw = {"registry": registry} if registry is not None else {}
        self.requests = Counter(
            metric_name(service, "http_requests_total"), "HTTP requests served",
            ["method", "endpoint", "status"], **kw)
        self.latency = Histogram(
            metric_name(service, "http_request_duration_seconds"),
            "HTTP request latency", ["method", "endpoint"], **kw)


_HTTP: dict[str, HttpMetrics] = {}


def install_metrics(app: Flask, service: str) -> None:
    """Count requests and serve ``/metrics`` (multiprocess-aware under gunicorn)."""
    from flask import Response, g, request

    http = _HTTP.get(service) or _HTTP.setdefault(service, HttpMetrics(service))

    @app.before_request
    def _start() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(resp: Response) -> Response:
        started = getattr(g, "metrics_started", None)
        endpoint = request.endpoint or "unknown"
        if started is not None:
            http.latency.labels(request.method, endpoint).observe(
                time.perf_counter() - started)
        http.requests.labels(request.method, endpoint, str(resp.status_code)).inc()
        return resp

    @app.get("/metrics")
    def metrics() -> Response:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            data = generate_latest(registry)
        else:
            data = generate_latest()
        return Response(data, mimetype=CONTENT_TYPE_LATEST)


def mark_process_dead(pid: int) -> None:
    """gunicorn ``child_exit`` hook: drop a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
