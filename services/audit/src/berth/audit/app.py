"""The audit service's Flask app factory: the only place things are wired."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from flask import Flask, Response, jsonify

from berth.audit.api.audit import bp as audit_bp
from berth.audit.config import AuditConfig
from berth.audit.keys import anchor_key
from berth.audit.memberships import CatalogMemberships, Memberships
from berth.audit.models import OUTBOX
from berth.audit.openapi import document
from berth.common.app import base_app
from berth.common.auth import Authenticator, install_auth
from berth.common.config import load
from berth.common.db import install_session
from berth.common.health import Check, install_health
from berth.common.runtime import Runtime, build_runtime, remote_authenticator


def create_app(config: AuditConfig | None = None, *,
               authenticator: Authenticator | None = None,
               runtime: Runtime | None = None,
               memberships: Memberships | None = None) -> Flask:
    """Build the app; tests pass a config, an authenticator with static keys,
    optionally a runtime sharing their engine and the users' memberships."""
    config = config or load(AuditConfig)
    app = base_app("audit", __name__, log_level=config.log_level,
                   trusted_proxies=config.trusted_proxies)
    runtime = runtime or build_runtime(config, service="audit",
                                       database_url=config.database_url,
                                       outbox_table=OUTBOX)
    app.extensions["berth.audit.config"] = config
    app.extensions["berth.audit.runtime"] = runtime
    app.extensions["berth.audit.anchor_key"] = anchor_key(config)
    app.extensions["berth.audit.memberships"] = memberships or CatalogMemberships(
        config.catalog_url, config.internal_secret.reveal(), ttl=config.visibility_ttl)
    install_session(app, runtime.sessions)
    install_auth(app, authenticator or remote_authenticator(
        config, issuer=config.token_issuer))
    install_health(app, cast(Mapping[str, Check], runtime.health_checks()))
    app.register_blueprint(audit_bp)

    @app.get("/openapi.json")
    @app.get("/api/v1/audit/openapi.json")
    def openapi() -> Response:
        return jsonify(document())

    return app
