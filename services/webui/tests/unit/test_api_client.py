"""The API client: error mapping, unreachable services, pagination."""

from __future__ import annotations

from pathlib import Path

import pytest
from berth.common.testing import free_port
from berth.webui.api_client import ApiClient, ApiError, ServiceDown
from berth.webui.app import create_app
from flask.testing import FlaskClient

from services.webui.tests.conftest import Served, webui_config
from services.webui.tests.fake_backend import FakeBackend


def test_error_shape_is_mapped_to_message_and_status(served: Served,
                                                     tmp_path: Path) -> None:
    client = ApiClient(webui_config(tmp_path, {"catalog": served.url}))
    with pytest.raises(ApiError) as err:
        client.repository(12345)
    assert err.value.status == 404
    assert err.value.message == "repository not found"
    assert err.value.code == "NOT_FOUND"


def test_retry_after_is_kept(served: Served, tmp_path: Path, backend: object) -> None:
    backend.throttled = True  # type: ignore[attr-defined]
    client = ApiClient(webui_config(tmp_path, {"token": served.url}))
    with pytest.raises(ApiError) as err:
        client.login("alice", "x")
    assert err.value.status == 429 and err.value.retry_after == 42


def test_pagination_headers_are_read(served: Served, tmp_path: Path) -> None:
    client = ApiClient(webui_config(tmp_path, {"catalog": served.url}))
    page = client.repositories(page=1, per_page=1)
    assert len(page) == 1 and page.total == 1 and page.pages == 1


def test_capped_total_is_read_and_full_pages_lead_on(
        served: Served, tmp_path: Path, backend: FakeBackend) -> None:
    backend.audit[:] = [{"id": i} for i in range(25, 0, -1)]
    backend.audit_cap = 10
    client = ApiClient(webui_config(tmp_path, {"token": served.url,
                                               "audit": served.url}))
    client = client.with_token(client.login("admin", "admin-password").token)
    page = client.audit_events(page=2, per_page=10)
    assert page.capped and page.total == 20 and page.pages == 2 and page.has_next
    last = client.audit_events(page=3, per_page=10)
    assert not last.capped and last.total == 25 and not last.has_next
    short = client.audit_events(page=1, per_page=40)
    assert not short.capped and short.total == 25 and not short.has_next


def test_unreachable_service_is_service_down(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    client = ApiClient(webui_config(tmp_path, {"catalog": url}))
    with pytest.raises(ServiceDown) as err:
        client.repositories()
    assert err.value.status == 503 and "catalog" in err.value.message


def test_a_service_down_shows_an_error_page_not_a_traceback(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    app = create_app(webui_config(tmp_path, {s: url for s in
                                             ("token", "catalog", "audit", "syncer")}))
    client: FlaskClient = app.test_client()
    resp = client.get("/explore")
    assert resp.status_code == 503
    page = resp.get_data(as_text=True)
    assert "catalog service is not available" in page and "Traceback" not in page
    health = client.get("/api/v1/health")
    assert health.status_code == 503
    assert health.get_json()["catalog"]["success"] is False
