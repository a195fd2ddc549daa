"""The API client: error mapping, unreachable services, pagination."""

from __future__ import annotations

from pathlib import Path

import pytest
from berth.common.testing import free_port
from berth.webui.api_client import ApiClient, ApiError, ServiceDown
from berth.webui.app import create_app
from flask.testing import FlaskClient

from services.webui.tests.conftest import Served, webui_config


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
