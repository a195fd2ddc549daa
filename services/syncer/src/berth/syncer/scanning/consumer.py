"""Bus consumer of the scanner (queue ``scanner``): queue pushed digests."""

from __future__ import annotations

from typing import Any

from berth.common.consumer import Handler
from berth.common.events.base import Envelope
from berth.syncer.scanning import queue
from berth.syncer.scanning.metrics import SCAN_REQUESTS
from sqlalchemy.orm import Session


def make_handler(enabled: bool = True) -> Handler:
    """The handler of the ``scanner`` queue."""

    def handle(session: Session, env: Envelope) -> dict[str, Any] | None:
        if env.type != "registry.manifest.pushed" or not enabled:
            return {"ignored": env.type}
        data = env.data
        registry, repository, digest = (data.get("registry"), data.get("repository"),
                                        data.get("digest"))
        if not (registry and repository and digest):
            raise ValueError("manifest.pushed without registry, repository and digest")
        row = queue.request(session, str(registry), str(repository), str(digest))
        SCAN_REQUESTS.labels(trigger="push").inc()
        return {"digest": digest, "status": row.status}

    return handle
