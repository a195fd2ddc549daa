"""Operations on the registry itself, which only the syncer performs."""

from __future__ import annotations

from typing import Protocol

import structlog
from berth.catalog.metrics import MANIFEST_DELETES
from berth.common.auth import INTERNAL_HEADER
from berth.common.http import make_session

log = structlog.get_logger(__name__)


class ManifestGone(Exception):
    """The registry does not have the manifest (already deleted)."""


class RegistryDown(Exception):
    """The registry or the syncer could not be reached; nothing was deleted."""


class RegistryOperations(Protocol):
    """What the catalog asks of the registry."""

    def delete_manifest(self, registry: str, repository: str, digest: str) -> None:
        """Delete ``digest`` of ``repository`` in the registry whose service is
        ``registry``; raise ManifestGone or RegistryDown."""


class SyncerRegistryOperations:
    """Through the syncer's ``POST /internal/v1/manifests/delete``."""

    def __init__(self, syncer_url: str, internal_secret: str) -> None:
        self.url = syncer_url.rstrip("/") + "/internal/v1/manifests/delete"
        self.secret = internal_secret
        # POST is not retried by make_session; a delete is retried by the user.
        self.http = make_session(timeout=(3.05, 30.0))

    def delete_manifest(self, registry: str, repository: str, digest: str) -> None:
        """See :class:`RegistryOperations`."""
        try:
            resp = self.http.post(self.url, json={"registry": registry,
                                                  "repository": repository,
                                                  "digest": digest},
                                  headers={INTERNAL_HEADER: self.secret})
        except Exception as exc:  # requests raises many types; all mean "down"
            MANIFEST_DELETES.labels("unavailable").inc()
            raise RegistryDown(str(exc)[:200]) from exc
        if resp.status_code in (200, 202, 204):
            MANIFEST_DELETES.labels("deleted").inc()
            return
        if resp.status_code == 404:
            MANIFEST_DELETES.labels("gone").inc()
            raise ManifestGone(f"{repository}@{digest}")
        MANIFEST_DELETES.labels("unavailable").inc()
        log.warning("manifest_delete_failed", status=resp.status_code,
                    repository=repository)
        raise RegistryDown(f"syncer answered {resp.status_code}")
