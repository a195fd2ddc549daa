"""Turning registry events into delivery rows (the ``webhooks`` consumer)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog
from berth.catalog import names
from berth.catalog.models import (
    Namespace,
    Registry,
    Webhook,
    WebhookDelivery,
    utcnow,
)
from berth.catalog.webhooks import payload
from berth.catalog.webhooks.metrics import SCHEDULED
from berth.common.events.base import Envelope
from sqlalchemy import select
from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)

CONSUMER = "webhooks"


def _namespace(session: Session, registry_service: str, repository: str
               ) -> Namespace | None:
    registry = session.scalar(select(Registry).where(
        Registry.service == registry_service))
    if registry is None:
        return None
    ns_name, _ = names.split_repository(repository)
    where = (Namespace.is_global.is_(True) if ns_name is None
             else Namespace.name == ns_name)
    return session.scalar(select(Namespace).where(
        Namespace.registry_id == registry.id, where))


def schedule(session: Session, env: Envelope, now: datetime | None = None
             ) -> list[WebhookDelivery]:
    """One pending delivery per enabled webhook of the event's namespace that
    subscribes to its action (none twice for the same event)."""
    action = payload.ACTIONS.get(env.type)
    repository = env.data.get("repository")
    registry = env.data.get("registry")
    if action is None or not isinstance(repository, str) \
            or not isinstance(registry, str):
        return []
    ns = _namespace(session, registry, repository)
    if ns is None:
        return []
    hooks = session.scalars(select(Webhook).where(
        Webhook.namespace_id == ns.id, Webhook.enabled.is_(True))
        .order_by(Webhook.id)).all()
    doc = payload.document(env, ns.name)
    out = []
    for hook in hooks:
        if action not in hook.event_list:
            continue
        already = session.scalar(select(WebhookDelivery.id).where(
            WebhookDelivery.webhook_id == hook.id,
            WebhookDelivery.event_id == env.id))
        if already is not None:
            continue
        delivery = WebhookDelivery(
            webhook_id=hook.id, uuid=str(uuid.uuid4()), event_id=env.id,
            event_type=env.type, state="pending", attempts=0,
            next_attempt_at=now or utcnow(),
            request_body=payload.encode({**doc, "webhook": {"id": hook.id,
                                                            "name": hook.name}},
                                        hook.content_type))
        session.add(delivery)
        out.append(delivery)
        SCHEDULED.labels(action).inc()
    session.flush()
    if out:
        log.info("webhook_deliveries_scheduled", event_id=env.id, action=action,
                 namespace=ns.name, count=len(out))
    return out


def make_handler() -> Callable[[Session, Envelope], dict[str, Any] | None]:
    """The handler of the ``webhooks`` queue (the runner commits)."""

    def handle(session: Session, env: Envelope) -> dict[str, Any] | None:
        return {"deliveries": len(schedule(session, env))}

    return handle


def resend(session: Session, original: WebhookDelivery) -> WebhookDelivery:
    """A new pending delivery with the same body, due now."""
    key = str(uuid.uuid4())
    copy = WebhookDelivery(
        webhook_id=original.webhook_id, uuid=key, event_id=key,
        event_type=original.event_type, resent_from_id=original.id,
        state="pending", attempts=0, next_attempt_at=utcnow(),
        request_body=original.request_body)
    session.add(copy)
    session.flush()
    return copy
