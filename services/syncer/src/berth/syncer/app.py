"""The syncer's app factory: the only place its collaborators are wired."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from berth.common.app import base_app
from berth.common.auth import Authenticator, install_auth
from berth.common.db import install_session
from berth.common.health import Check, install_health
from berth.common.runtime import Runtime, build_runtime, remote_authenticator
from berth.syncer.api import internal, sync, webhooks
from berth.syncer.config import SyncerConfig, load_config
from berth.syncer.models import OUTBOX
from berth.syncer.openapi import document
from berth.syncer.registries import RegistryDirectory
from berth.syncer.scanning import api as scanning_api
from berth.syncer.scanning.scanner import Scanner, build_scanner
from berth.syncer.scanning.tags import CatalogTags, TagResolver
from berth.syncer.services.manifests import ManifestService
from berth.syncer.services.notifications import NotificationService
from berth.syncer.services.reconcile import ClientFor
from berth.syncer.state import Syncer
from berth.syncer.wiring import ClientPool, build_directory, build_reconciler
from flask import Flask, Response, jsonify

# Registry notification envelopes are small (the registry batches a few
# events); anything bigger is refused before it is read.
MAX_BODY_BYTES = 1024 * 1024


class HealthChecks(Mapping[str, Check]):
    """Database, bus, and one check per registry known right now."""

    def __init__(self, runtime: Runtime, directory: RegistryDirectory,
                 client_for: ClientFor) -> None:
        self.runtime = runtime
        self.directory = directory
        self.client_for = client_for

    def _all(self) -> dict[str, Check]:
        checks: dict[str, Check] = dict(self.runtime.health_checks())  # type: ignore[arg-type]
        for reg in self.directory.all():
            if reg.url:
                checks[f"registry:{reg.service}"] = self.client_for(reg).ping
        return checks

    def __getitem__(self, key: str) -> Check:
        return self._all()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def items(self) -> Any:
        return self._all().items()


def create_app(config: SyncerConfig | None = None, *, runtime: Runtime | None = None,
               authenticator: Authenticator | None = None,
               directory: RegistryDirectory | None = None,
               client_for: ClientFor | None = None,
               tag_resolver: TagResolver | None = None,
               scanner: Scanner | None = None) -> Flask:
    """Build the syncer's Flask app; collaborators may be passed in (tests)."""
    config = config or load_config()
    runtime = runtime or build_runtime(config, service="syncer",
                                       database_url=config.database_url,
                                       outbox_table=OUTBOX)
    directory = directory or build_directory(config)
    client_for = client_for or ClientPool(config)
    app = base_app("syncer", __name__, log_level=config.log_level,
                   trusted_proxies=config.trusted_proxies,
                   max_body=MAX_BODY_BYTES)
    install_session(app, runtime.sessions)
    install_auth(app, authenticator or remote_authenticator(
        config, issuer=config.token_issuer))
    app.extensions["berth.syncer"] = Syncer(
        config=config, runtime=runtime, directory=directory,
        reconciler=build_reconciler(config, runtime, directory, client_for),
        notifications=NotificationService(runtime.outbox),
        manifests=ManifestService(directory, client_for))
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(sync.bp)
    app.register_blueprint(internal.bp)
    scanning_api.install(app, tag_resolver or CatalogTags(config.catalog_url, directory),
                         scanner or build_scanner(config))
    install_health(app, HealthChecks(runtime, directory, client_for))

    @app.get("/openapi.json")
    @app.get("/api/v1/syncer/openapi.json")
    def openapi() -> Response:
        return jsonify(document())

    return app
