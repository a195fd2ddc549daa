"""``Server-Timing`` on every answer: how long the web UI spent on a request
(``app``) and, of that, waiting for the other services' APIs (``upstream``).
Browsers' developer tools and the benchmarks read it; it holds durations only."""

from __future__ import annotations

import time

from flask import Flask, Response, g, has_request_context


def add_upstream(seconds: float) -> None:
    """Count ``seconds`` spent waiting for another service in this request."""
    if has_request_context():
        g.upstream_seconds = getattr(g, "upstream_seconds", 0.0) + seconds


def header_value(app_seconds: float, upstream_seconds: float) -> str:
    """The header's value, durations in milliseconds."""
    return (f"app;dur={app_seconds * 1000:.1f}, "
            f"upstream;dur={upstream_seconds * 1000:.1f}")


def install_server_timing(app: Flask) -> None:
    """Time each request from its first hook to its response."""

    @app.before_request
    def _start() -> None:
        g.timing_started = time.perf_counter()
        g.upstream_seconds = 0.0

    @app.after_request
    def _header(resp: Response) -> Response:
        started = getattr(g, "timing_started", None)
        if started is not None:
            resp.headers["Server-Timing"] = header_value(
                time.perf_counter() - started, getattr(g, "upstream_seconds", 0.0))
        return resp
