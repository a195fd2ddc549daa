"""The catalog's app factory: wiring happens here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from berth.catalog.config import CatalogConfig
from berth.catalog.models import Base
from berth.catalog.policy import Knobs
from berth.catalog.runtime import catalog_runtime, default_registry_spec, knobs_of
from berth.catalog.services.directory import TokenDirectory, UserLookup
from berth.catalog.services.registries import ensure_registry
from berth.catalog.services.registry_ops import (
    RegistryOperations,
    SyncerRegistryOperations,
)
from berth.catalog.webhooks.runtime import EXTENSION as WEBHOOKS
from berth.catalog.webhooks.runtime import webhook_runtime
from berth.common.app import base_app
from berth.common.auth import Authenticator, install_auth
from berth.common.bus import Bus
from berth.common.config import load
from berth.common.db import install_session, transaction
from berth.common.errors import Conflict, error_response
from berth.common.health import install_health
from berth.common.runtime import Runtime, remote_authenticator
from flask import Flask, Response
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

log = structlog.get_logger(__name__)


@dataclass
class CatalogState:
    """What views reach through ``current_app.extensions['berth.catalog']``."""

    config: CatalogConfig
    knobs: Knobs
    runtime: Runtime
    registry_ops: RegistryOperations
    lookup_user: UserLookup | None = None


def create_app(config: CatalogConfig | None = None, *,
               authenticator: Authenticator | None = None,
               registry_ops: RegistryOperations | None = None,
               lookup_user: UserLookup | None = None,
               bus: Bus | None = None, create_schema: bool = False) -> Flask:
    """Build the catalog app; collaborators may be passed in (tests)."""
    config = config or load(CatalogConfig)
    app = base_app("catalog", __name__, log_level=config.log_level,
                   trusted_proxies=config.trusted_proxies)
    runtime = catalog_runtime(config, bus)
    if create_schema:  # tests on SQLite in memory; deployments run `migrate`
        Base.metadata.create_all(runtime.engine)
    ops = registry_ops or SyncerRegistryOperations(config.syncer_url,
                                                   config.internal_secret)
    lookup = lookup_user or TokenDirectory(config.token_url, config.internal_secret)
    app.extensions["berth.catalog"] = CatalogState(config=config, knobs=knobs_of(config),
                                                   runtime=runtime, registry_ops=ops,
                                                   lookup_user=lookup)
    install_session(app, runtime.sessions)
    install_auth(app, authenticator or remote_authenticator(
        config, issuer=config.token_issuer))
    install_health(app, runtime.health_checks())
    _ensure_default_registry(runtime, config)
    app.extensions[WEBHOOKS] = webhook_runtime(config)
    _register_blueprints(app)

    @app.errorhandler(IntegrityError)
    def _conflict(_err: IntegrityError) -> Response:
        # A concurrent request created the same name between our check and
        # our insert: the loser gets the answer the check would have given.
        return error_response(Conflict("this conflicts with a concurrent change; "
                                       "reload and try again"))

    return app


def _ensure_default_registry(runtime: Runtime, config: CatalogConfig) -> None:
    try:
        with transaction(runtime.sessions) as session:
            ensure_registry(session, default_registry_spec(config), sync=True)
    except (OperationalError, ProgrammingError) as exc:
        # Not migrated yet (or the database is down): `migrate` does it too.
        log.warning("default_registry_deferred", error=str(exc)[:200])


def _register_blueprints(app: Flask) -> None:
    from berth.catalog.api import (
        authorize,
        internal,
        namespaces,
        registries,
        repositories,
        search,
        social,
        tags,
        teams,
        version,
        webhooks,
    )
    from berth.catalog.openapi import blueprint as openapi_bp

    for module in (internal, authorize, teams, namespaces, repositories, tags,
                   registries, social, search, version, webhooks):
        app.register_blueprint(module.bp)
    app.register_blueprint(openapi_bp)
