"""The catalog's app factory: wiring happens here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from berth.catalog.config import CatalogConfig
from berth.catalog.models import OUTBOX, Base
from berth.catalog.policy import Knobs
from berth.catalog.services.directory import TokenDirectory, UserLookup
from berth.catalog.services.registries import RegistrySpec, ensure_registry
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
from berth.common.db import install_session, make_engine, make_sessionmaker, transaction
from berth.common.errors import Conflict, error_response
from berth.common.health import install_health
from berth.common.outbox import Outbox
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


def knobs_of(config: CatalogConfig) -> Knobs:
    """The policy switches from the config."""
    return Knobs(
        delete_enabled=config.delete_enabled,
        delete_contributors=config.delete_contributors,
        push_policy=config.push_policy,
        anonymous_browsing=config.anonymous_browsing,
        create_team=config.create_team, manage_team=config.manage_team,
        create_namespace=config.create_namespace,
        manage_namespace=config.manage_namespace,
        change_visibility=config.change_visibility,
        create_webhook=config.create_webhook, manage_webhook=config.manage_webhook)


def default_registry_spec(config: CatalogConfig) -> RegistrySpec:
    """The registry the config describes."""
    hostname = config.registry_hostname
    return RegistrySpec(name=config.registry_name, hostname=hostname,
                        service=config.registry_service, url=config.registry_url,
                        use_ssl=config.registry_url.startswith("https"),
                        notification_secret=config.registry_notification_secret)


def catalog_runtime(config: CatalogConfig, bus: Bus | None = None) -> Runtime:
    """Engine, sessions, bus and outbox of the catalog (app and worker)."""
    kw = {}
    if config.database_url.startswith("mysql"):
        # insert_or_get looks up the row a concurrent writer just committed;
        # under REPEATABLE READ that lookup would still see the old snapshot.
        kw["isolation_level"] = "READ COMMITTED"
    engine = make_engine(config.database_url, **kw)
    bus = bus or Bus(config.amqp_url or None, config.home, "catalog")
    return Runtime(engine=engine, sessions=make_sessionmaker(engine), bus=bus,
                   outbox=Outbox(OUTBOX, bus, "catalog"))


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
