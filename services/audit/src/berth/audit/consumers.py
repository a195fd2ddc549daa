"""The bus consumer: every event on queue ``berth.audit`` becomes one record."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.orm import Session

from berth.audit import metrics
from berth.audit.services.recorder import append
from berth.common.events.base import Envelope

log = structlog.get_logger(__name__)

CONSUMER = "audit"


def record_event(session: Session, env: Envelope) -> dict[str, Any]:
    """ConsumerWorker handler: append ``env``; the runner commits and acks."""
    record = append(session, env)
    if record is None:
        metrics.DUPLICATES.inc()
        return {"duplicate": True}
    metrics.RECORDS_WRITTEN.labels(metrics.group_of(record.action)).inc()
    lag = (record.recorded_at - record.occurred_at).total_seconds()
    metrics.LAG.observe(max(lag, 0.0))
    log.info("audit_record_written", record_id=record.id, action=record.action,
             event_type=env.type)
    return {"record_id": record.id, "action": record.action}
