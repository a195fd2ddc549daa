"""What a webhook receives: the registry event plus Berth's context."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from berth.common.events.base import Envelope
from berth.common.events.registry import ManifestDeleted, ManifestPulled, ManifestPushed

ACTIONS: dict[str, str] = {ManifestPushed.TYPE: "push", ManifestDeleted.TYPE: "delete",
                           ManifestPulled.TYPE: "pull"}
FORM = "application/x-www-form-urlencoded"


def document(env: Envelope, namespace: str) -> dict[str, Any]:
    """The body as a dict: the event as the syncer published it, with context."""
    data = dict(env.data)
    actor_name = data.get("actor") or env.actor.get("name")
    return {
        "action": ACTIONS.get(env.type, env.type),
        "event": {"id": env.id, "type": env.type, "occurred_at": env.occurred_at,
                  **data},
        "namespace": namespace,
        "repository": data.get("repository"),
        "tag": data.get("tag"),
        "digest": data.get("digest"),
        "registry": data.get("registry"),
        "actor": {"name": actor_name, "address": data.get("source_addr")},
        "occurred_at": env.occurred_at,
    }


def encode(doc: dict[str, Any], content_type: str) -> str:
    """The body in the webhook's content type (JSON, or a form of flat fields)."""
    if content_type != FORM:
        return json.dumps(doc, sort_keys=True, separators=(",", ":"))
    flat = {k: v for k, v in doc.items() if isinstance(v, str)}
    flat["actor"] = doc["actor"]["name"] or ""
    flat["event"] = json.dumps(doc["event"], sort_keys=True, separators=(",", ":"))
    return urlencode(sorted(flat.items()))
