"""Server-Timing: the web UI's own time and the part spent on other services."""

from __future__ import annotations

import re

from berth.webui.timing import header_value
from flask.testing import FlaskClient

TIMING_RE = re.compile(r"^app;dur=([0-9.]+), upstream;dur=([0-9.]+)$")


def _durations(value: str | None) -> tuple[float, float]:
    match = TIMING_RE.match(value or "")
    assert match, value
    return float(match.group(1)), float(match.group(2))


def test_header_value_is_in_milliseconds() -> None:
    assert header_value(0.0123, 0.004) == "app;dur=12.3, upstream;dur=4.0"


def test_a_page_that_calls_the_apis_reports_its_upstream_share(
        admin_client: FlaskClient) -> None:
    resp = admin_client.get("/")
    assert resp.status_code == 200
    total, upstream = _durations(resp.headers.get("Server-Timing"))
    assert upstream > 0
    assert total >= upstream


def test_a_page_that_calls_nothing_reports_no_upstream_time(
        client: FlaskClient) -> None:
    total, upstream = _durations(client.get("/login").headers.get("Server-Timing"))
    assert upstream == 0.0
    assert total > 0
