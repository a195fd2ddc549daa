"""HTTP views of the token service: parse, call a service, serialise."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach every blueprint."""
    from berth.token.api import app_tokens, auth, internal, registry, users
    from berth.token.openapi import blueprint as openapi

    for module in (registry, users, app_tokens, auth, internal):
        app.register_blueprint(module.bp)
    app.register_blueprint(openapi)
