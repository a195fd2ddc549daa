"""Deleting a manifest in a registry, on the catalog's request."""

from __future__ import annotations

import structlog
from berth.syncer import metrics
from berth.syncer.errors import ManifestUnknown, RegistryDown, RegistryUnknown
from berth.syncer.registries import RegistryDirectory
from berth.syncer.registry_client import RegistryError, RegistryNotFound
from berth.syncer.services.reconcile import ClientFor

log = structlog.get_logger(__name__)


class ManifestService:
    """Registry-side operations on manifests."""

    def __init__(self, directory: RegistryDirectory, client_for: ClientFor) -> None:
        self.directory = directory
        self.client_for = client_for

    def delete(self, registry_service: str, repository: str, digest: str) -> None:
        """DELETE the manifest; the registry's notification updates everyone."""
        registry = self.directory.get(registry_service)
        if registry is None or not registry.url:
            raise RegistryUnknown(f"unknown registry {registry_service!r}",
                                  detail={"registry": registry_service})
        try:
            self.client_for(registry).delete_manifest(repository, digest)
        except RegistryNotFound as exc:
            metrics.MANIFEST_DELETES.labels("not_found").inc()
            raise ManifestUnknown("the registry does not have this manifest",
                                  detail={"repository": repository,
                                          "digest": digest}) from exc
        except RegistryError as exc:
            metrics.MANIFEST_DELETES.labels("unavailable").inc()
            log.warning("manifest_delete_failed", registry=registry.service,
                        error=str(exc)[:200])
            raise RegistryDown("the registry did not accept the delete") from exc
        metrics.MANIFEST_DELETES.labels("accepted").inc()
        log.info("manifest_deleted", registry=registry.service, digest=digest)
