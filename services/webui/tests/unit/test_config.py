"""The session secret: configured, or created once under BERTH_HOME."""

from __future__ import annotations

import importlib
from pathlib import Path

from berth.common.config import load
from berth.webui.app import create_app
from berth.webui.config import WebuiConfig
from flask.testing import FlaskClient


def test_secret_key_is_created_by_the_factory_and_reused(tmp_path: Path) -> None:
    config = load(WebuiConfig, {"BERTH_HOME": str(tmp_path)})
    path = tmp_path / "secrets" / "webui"
    assert not path.exists()
    first = create_app(config).config["SECRET_KEY"]
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"
    assert create_app(config).config["SECRET_KEY"] == first


def test_configured_secret_key_wins_and_is_not_shown(tmp_path: Path) -> None:
    config = load(WebuiConfig, {"BERTH_HOME": str(tmp_path),
                                "BERTH_WEBUI_SECRET_KEY": "configured-key"})
    assert create_app(config).config["SECRET_KEY"] == "configured-key"
    assert "configured-key" not in repr(config)
    assert not (tmp_path / "secrets" / "webui").exists()


def test_importing_the_app_module_touches_nothing(tmp_path: Path,
                                                  monkeypatch: object) -> None:
    monkeypatch.setenv("BERTH_HOME", str(tmp_path))  # type: ignore[attr-defined]
    importlib.reload(importlib.import_module("berth.webui.app"))
    assert not (tmp_path / "secrets").exists()


def test_secure_cookies_behind_tls(tmp_path: Path) -> None:
    config = load(WebuiConfig, {"BERTH_HOME": str(tmp_path),
                                "BERTH_PUBLIC_URL": "https://berth.example"})
    app = create_app(config)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert config.public_host == "berth.example"


def _app_with(tmp_path: Path, **env: str) -> FlaskClient:
    config = load(WebuiConfig, {"BERTH_HOME": str(tmp_path), **env})
    return create_app(config).test_client()


def test_sign_up_disabled_hides_the_form(tmp_path: Path) -> None:
    client = _app_with(tmp_path, BERTH_SIGNUP_ENABLED="false")
    assert client.get("/signup").status_code == 404
    assert 'href="/signup"' not in client.get("/login").get_data(as_text=True)


def test_without_anonymous_browsing_explore_asks_to_sign_in(tmp_path: Path) -> None:
    client = _app_with(tmp_path, BERTH_ANONYMOUS_BROWSING="false")
    assert client.get("/").headers["Location"] == "/login"
    resp = client.get("/explore")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_openapi_document_is_served_at_both_paths(tmp_path: Path) -> None:
    client = _app_with(tmp_path)
    doc = client.get("/api/v1/webui/openapi.json").get_json()
    assert doc == client.get("/openapi.json").get_json()
    assert set(doc["paths"]) == {"/api/v1/_ping", "/api/v1/health"}
