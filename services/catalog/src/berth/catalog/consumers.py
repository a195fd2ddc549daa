"""Bus consumers: parse the event, call a service, let the runner commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from berth.catalog.metrics import REGISTRY_EVENTS
from berth.catalog.policy import Knobs
from berth.catalog.services import registry_events, users
from berth.catalog.services.context import Ctx
from berth.common.events.base import Envelope, parse_event
from berth.common.events.identity import UserCreated, UserDeleted, UserUpdated
from berth.common.events.registry import (
    ManifestDeleted,
    ManifestPulled,
    ManifestPushed,
    TagRemoved,
)
from berth.common.outbox import Outbox
from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)

CONSUMER = "catalog"


def make_handler(outbox: Outbox, knobs: Knobs) -> Callable[[Session, Envelope],
                                                           dict[str, Any] | None]:
    """The handler of the catalog's queue."""

    def handle(session: Session, env: Envelope) -> dict[str, Any] | None:
        event = parse_event(env)
        if event is None:
            return {"ignored": env.type}
        ctx = Ctx(session=session, outbox=outbox, knobs=knobs, actor=env.actor_obj())
        outcome = _dispatch(ctx, env, event)
        if env.type.startswith("registry."):
            REGISTRY_EVENTS.labels(env.type, outcome.split("_")[0]).inc()
        return {"outcome": outcome}

    return handle


def _dispatch(ctx: Ctx, env: Envelope, event: object) -> str:
    if isinstance(event, ManifestPushed):
        return registry_events.apply_push(ctx, event, env.occurred_at)
    if isinstance(event, ManifestPulled):
        return registry_events.apply_pull(ctx, event, env.occurred_at)
    if isinstance(event, ManifestDeleted):
        return registry_events.apply_manifest_deleted(
            ctx, event.registry, event.repository, event.digest)
    if isinstance(event, TagRemoved):
        return registry_events.apply_tag_removed(ctx, event)
    if isinstance(event, UserCreated | UserUpdated):
        user = users.upsert_user(ctx.session, event.user_id, event.username,
                                 admin=event.admin, enabled=event.enabled,
                                 bot=getattr(event, "bot", None))
        users.ensure_user_everywhere(ctx.session, user, ctx.emit)
        return "user_synced"
    if isinstance(event, UserDeleted):
        return "user_removed" if users.remove_user(ctx.session, event.user_id) \
            else "user_unknown"
    return "ignored"
