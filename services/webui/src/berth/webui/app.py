"""The web UI's app factory: the only place where things are wired."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from berth.common.app import base_app
from berth.common.config import load
from berth.common.health import install_health
from berth.webui.api_client import ApiClient
from berth.webui.config import WebuiConfig, resolve_secret_key
from berth.webui.errors import install_error_pages
from berth.webui.formatting import install_filters
from berth.webui.openapi import document
from berth.webui.security import install_security
from berth.webui.sessions import current_user
from berth.webui.timing import install_server_timing
from berth.webui.views import register_views
from flask import Flask, Response, jsonify

SERVICE = "webui"


def _dependency_check(client: ApiClient, service: str) -> Any:
    def check() -> None:
        ok, _ = client.health(service)
        if not ok:
            raise RuntimeError(f"{service} unhealthy")

    return check


def create_app(config: WebuiConfig | None = None, *,
               api: ApiClient | None = None) -> Flask:
    """Build the web UI for ``config`` (default: from the environment)."""
    config = config or load(WebuiConfig)
    app = base_app(SERVICE, __name__, log_level=config.log_level,
                   trusted_proxies=config.trusted_proxies)
    app.config.update(
        SECRET_KEY=resolve_secret_key(config),
        SESSION_COOKIE_NAME="berth_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=config.session_lifetime),
        BERTH=config,
    )
    client = api or ApiClient(config)
    app.extensions["berth.webui.api"] = client
    app.extensions["berth.webui.config"] = config

    install_server_timing(app)
    install_security(app)
    install_filters(app)
    install_error_pages(app)
    install_health(app, {svc: _dependency_check(client, svc)
                         for svc in ("token", "catalog")})

    @app.get("/openapi.json")
    @app.get("/api/v1/webui/openapi.json")
    def openapi() -> Response:
        return jsonify(document())

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"me": current_user(), "berth": config}

    register_views(app)
    return app
