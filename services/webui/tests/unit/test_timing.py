"""Server-Timing: the web UI's own time and the part spent on other services."""

from __future__ import annotations

import re

import pytest
from berth.webui.timing import header_value
from flask.testing import FlaskClient

from services.webui.tests.conftest import csrf_of

METRIC_RE = re.compile(r"^(\w+);dur=([0-9.]+)$")


def _durations(value: str | None) -> dict[str, float]:
    found = {}
    for part in (value or "").split(", "):
        match = METRIC_RE.match(part)
        assert match, value
        found[match.group(1)] = float(match.group(2))
    return found


def test_header_value_is_in_milliseconds_with_each_service() -> None:
    assert header_value(0.0123, {"token": 0.001, "catalog": 0.003}) == (
        "app;dur=12.3, upstream;dur=4.0, catalog;dur=3.0, token;dur=1.0")
    assert header_value(0.002, {}) == "app;dur=2.0, upstream;dur=0.0"


def test_a_page_that_calls_the_apis_reports_its_upstream_share(
        admin_client: FlaskClient) -> None:
    resp = admin_client.get("/")
    assert resp.status_code == 200
    timing = _durations(resp.headers.get("Server-Timing"))
    assert timing["catalog"] > 0
    assert timing["upstream"] == pytest.approx(
        sum(v for k, v in timing.items() if k not in ("app", "upstream")), abs=0.2)
    # The dashboard asks its panels concurrently: the calls' durations, summed
    # (even one service's), may exceed the page's own time.
    assert timing["app"] > 0


def test_a_page_that_calls_nothing_reports_no_upstream_time(
        client: FlaskClient) -> None:
    timing = _durations(client.get("/login").headers.get("Server-Timing"))
    assert set(timing) == {"app", "upstream"}
    assert timing["upstream"] == 0.0
    assert timing["app"] > 0


def test_a_sign_in_attempt_carries_no_timing(client: FlaskClient) -> None:
    resp = client.post("/login", data={"username": "alice", "password": "wrong",
                                       "csrf_token": csrf_of(client)})
    assert resp.status_code in (401, 403)
    assert "Server-Timing" not in resp.headers
