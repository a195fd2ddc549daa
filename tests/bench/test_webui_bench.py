"""The web UI benchmark reads the server's time, and judges the target on it."""

from __future__ import annotations

from bench.webui_bench import PageTiming, row, server_timing


def test_server_timing_header_is_read_in_milliseconds() -> None:
    assert server_timing("app;dur=12.5, upstream;dur=7.0") == {"app": 12.5,
                                                                 "upstream": 7.0}
    assert server_timing(None) == {}


def _page(server_p99: float, client_p99: float) -> PageTiming:
    return PageTiming(1.0, server_p99, 0.5, server_p99 / 2, 2.0, client_p99, 5)


def test_the_target_is_on_the_server_time_not_the_client_wait() -> None:
    slow_client = row("SQLite", 10, {"dashboard": _page(150.0, 900.0)})
    slow_server = row("SQLite", 10, {"dashboard": _page(250.0, 260.0)})
    assert slow_client.met is True and slow_server.met is False
    assert "server p50 1.0 ms, p99 250.0 ms" in slow_server.berth
    assert slow_server.raw["dashboard"]["client_p99_ms"] == 260.0
