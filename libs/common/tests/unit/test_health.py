"""Health names each failing dependency and answers 503."""

from __future__ import annotations

from berth.common.app import base_app
from berth.common.health import install_health


def _down() -> None:
    raise ConnectionError("refused")


def test_health_is_200_when_all_pass_and_503_naming_failures() -> None:
    app = base_app("test", __name__)
    install_health(app, {"database": lambda: None, "registry": _down})
    client = app.test_client()
    assert client.get("/api/v1/_ping").status_code == 200
    resp = client.get("/api/v1/health")
    assert resp.status_code == 503
    assert resp.json["database"]["success"] is True
    assert resp.json["registry"]["success"] is False


def test_metrics_endpoint_exposes_request_counts() -> None:
    app = base_app("healthtest", __name__)
    install_health(app, {})
    client = app.test_client()
    client.get("/api/v1/_ping")
    body = client.get("/metrics").get_data(as_text=True)
    assert "berth_healthtest_http_requests_total" in body
