"""``Server-Timing`` on every answer: how long the web UI spent on a request
(``app``) and the time its calls to the other services' APIs took (one
entry per service called, and their sum as ``upstream``; calls made
concurrently, as the dashboard's, can sum to more than ``app``). Browsers'
developer tools and the benchmarks read it; it holds durations only, and only on pages read with GET
or HEAD: the answer to a sign-in attempt must not time the password check
more precisely than the wall clock already does."""

from __future__ import annotations

import time

from flask import Flask, Response, g, has_request_context, request


def add_upstream(service: str, seconds: float) -> None:
    """Count ``seconds`` spent waiting for ``service`` in this request."""
    if has_request_context():
        spent: dict[str, float] = g.setdefault("upstream_seconds", {})
        spent[service] = spent.get(service, 0.0) + seconds


def header_value(app_seconds: float, upstream: dict[str, float]) -> str:
    """The header's value, durations in milliseconds."""
    parts = [f"app;dur={app_seconds * 1000:.1f}",
             f"upstream;dur={sum(upstream.values()) * 1000:.1f}"]
    parts += [f"{name};dur={seconds * 1000:.1f}"
              for name, seconds in sorted(upstream.items())]
    return ", ".join(parts)


def install_server_timing(app: Flask) -> None:
    """Time each request from its first hook to its response."""

    @app.before_request
    def _start() -> None:
        g.timing_started = time.perf_counter()
        g.upstream_seconds = {}

    @app.after_request
    def _header(resp: Response) -> Response:
        started = getattr(g, "timing_started", None)
        if started is not None and request.method in ("GET", "HEAD"):
            resp.headers["Server-Timing"] = header_value(
                time.perf_counter() - started, getattr(g, "upstream_seconds", {}))
        return resp
