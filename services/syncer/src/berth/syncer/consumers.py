"""Bus consumer of the syncer (queue ``syncer``): parse, act, report."""

from __future__ import annotations

from typing import Any

from berth.common.consumer import Handler, Transient
from berth.common.errors import NotFound, Unavailable
from berth.common.events.base import Envelope
from berth.syncer.registries import RegistryDirectory
from berth.syncer.services.manifests import ManifestService
from sqlalchemy.orm import Session


def make_handler(manifests: ManifestService, directory: RegistryDirectory) -> Handler:
    """The handler of the ``syncer`` queue."""

    def handle(_session: Session, env: Envelope) -> dict[str, Any] | None:
        if env.type.startswith("catalog.registry."):
            directory.all(refresh=True)  # pick the change up now, not in 30 s
            return {"registries": "refreshed"}
        if env.type == "catalog.tag.delete_requested":
            return _delete(manifests, env)
        return {"ignored": env.type}

    return handle


def _delete(manifests: ManifestService, env: Envelope) -> dict[str, Any]:
    data = env.data
    details = data.get("details") or {}
    digest = details.get("digest") or data.get("digest")
    repository = data.get("repository") or details.get("repository")
    registry = data.get("registry") or details.get("registry")
    if not (digest and repository and registry):
        raise ValueError("delete_requested without registry, repository and digest")
    try:
        manifests.delete(str(registry), str(repository), str(digest))
    except NotFound:
        return {"deleted": False, "reason": "not found"}  # already gone: done
    except Unavailable as exc:
        raise Transient(str(exc)) from exc
    return {"deleted": True}
