"""``POST /v2/webhooks/events``: the registry's notification endpoint."""

from __future__ import annotations

from typing import Any

import structlog
from berth.common.db import get_session
from berth.common.web import client_address
from berth.syncer import metrics
from berth.syncer.errors import BadNotification, NotificationRefused
from berth.syncer.services.notifications import MalformedNotification, parse
from berth.syncer.state import syncer
from flask import Blueprint, Response, jsonify, request
from sqlalchemy.exc import IntegrityError

log = structlog.get_logger(__name__)
bp = Blueprint("webhooks", __name__)


def _bearer() -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


@bp.post("/v2/webhooks/events")
def receive() -> tuple[Response, int]:
    """Store the manifest events of one envelope, then answer 200."""
    state = syncer()
    secret = _bearer()
    registry = state.directory.by_secret(secret) if secret else None
    if registry is None:
        metrics.NOTIFICATION_REQUESTS.labels("refused").inc()
        log.warning("notification_refused", remote=client_address())
        raise NotificationRefused("a registry notification secret is required",
                                  headers={"WWW-Authenticate": 'Bearer realm="berth"'})
    # The registry sends application/vnd.docker.distribution.events.v2+json.
    body: Any = request.get_json(force=True, silent=True)
    try:
        events = parse(body)
    except MalformedNotification as exc:
        metrics.NOTIFICATION_REQUESTS.labels("malformed").inc()
        log.warning("notification_malformed", registry=registry.service,
                    error=str(exc))
        raise BadNotification(str(exc)) from exc
    session = get_session()
    try:
        counts = state.notifications.apply(session, registry, events)
        session.commit()
    except IntegrityError:
        # A concurrent delivery of the same event won the race; this time the
        # duplicates are seen and dropped.
        session.rollback()
        counts = state.notifications.apply(session, registry, events)
        session.commit()
    for outcome, count in counts.items():
        if count:
            metrics.NOTIFICATIONS.labels(outcome).inc(count)
    metrics.NOTIFICATION_REQUESTS.labels("accepted").inc()
    return jsonify(counts), 200
