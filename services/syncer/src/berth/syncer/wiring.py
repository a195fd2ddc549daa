"""Builds the syncer's collaborators from its config (used by app and worker)."""

from __future__ import annotations

import threading

from berth.common.http import make_session
from berth.common.runtime import Runtime
from berth.syncer.config import SyncerConfig
from berth.syncer.registries import Registry, RegistryDirectory, catalog_fetcher
from berth.syncer.registry_client import RegistryClient, TokenCache, client_kwargs
from berth.syncer.services.reconcile import ClientFor, Reconciler


def default_registry(config: SyncerConfig) -> Registry:
    """The registry configured by BERTH_REGISTRY_*."""
    return Registry(name=config.registry_name, service=config.registry_service,
                    url=config.registry_url, hostname=config.registry_hostname,
                    notification_secret=config.registry_notification_secret)


def build_directory(config: SyncerConfig, with_catalog: bool = True) -> RegistryDirectory:
    """The default registry plus, when asked, the catalog's list."""
    fetch = (catalog_fetcher(config.catalog_url, config.internal_secret)
             if with_catalog else None)
    return RegistryDirectory(default_registry(config), fetch)


class ClientPool:
    """One pooled RegistryClient per registry URL, sharing one token cache."""

    def __init__(self, config: SyncerConfig) -> None:
        self.config = config
        self.tokens = TokenCache(config.internal_secret,
                                 make_session(timeout=(2.0, 10.0), retries=1))
        self._clients: dict[str, RegistryClient] = {}
        self._lock = threading.Lock()

    def __call__(self, registry: Registry) -> RegistryClient:
        with self._lock:
            client = self._clients.get(registry.url)
            if client is None:
                client = RegistryClient(registry.url, tokens=self.tokens,
                                        **client_kwargs(self.config))
                self._clients[registry.url] = client
            return client


def build_reconciler(config: SyncerConfig, runtime: Runtime,
                     directory: RegistryDirectory, client_for: ClientFor) -> Reconciler:
    """The reconciler with the configured strategy, parallelism and lock TTL."""
    return Reconciler(factory=runtime.sessions, outbox=runtime.outbox,
                      directory=directory, client_for=client_for,
                      strategy=config.sync_strategy,
                      parallelism=config.sync_parallelism,
                      lock_ttl=config.sync_lock_ttl)
