"""The session secret: configured, or created once under BERTH_HOME."""

from __future__ import annotations

import importlib
from pathlib import Path

from berth.common.config import load
from berth.webui.app import create_app
from berth.webui.config import WebuiConfig


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
