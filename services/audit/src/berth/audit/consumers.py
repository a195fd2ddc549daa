"""The bus consumer: every event on queue ``berth.audit`` becomes one record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy.orm import Session

from berth.audit import metrics
from berth.audit.forwarding import SyslogForwarder
from berth.audit.models import AuditRecord
from berth.audit.services.recorder import append
from berth.common.db import after_commit
from berth.common.events.base import Envelope

log = structlog.get_logger(__name__)

CONSUMER = "audit"
Handler = Callable[[Session, Envelope], dict[str, Any]]


def _write(session: Session, env: Envelope) -> tuple[dict[str, Any],
                                                     AuditRecord | None]:
    record = append(session, env)
    if record is None:
        metrics.DUPLICATES.inc()
        return {"duplicate": True}, None
    metrics.RECORDS_WRITTEN.labels(metrics.group_of(record.action)).inc()
    lag = (record.recorded_at - record.occurred_at).total_seconds()
    metrics.LAG.observe(max(lag, 0.0))
    log.info("audit_record_written", record_id=record.id, action=record.action,
             event_type=env.type)
    return {"record_id": record.id, "action": record.action}, record


def record_event(session: Session, env: Envelope) -> dict[str, Any]:
    """ConsumerWorker handler: append ``env``; the runner commits and acks."""
    return _write(session, env)[0]


def make_handler(forwarder: SyslogForwarder | None = None) -> Handler:
    """The consumer's handler, forwarding each new record once it is committed."""

    def handle(session: Session, env: Envelope) -> dict[str, Any]:
        summary, record = _write(session, env)
        if forwarder is not None and record is not None:
            sent = record

            def forward() -> None:
                forwarder.send(sent)

            after_commit(session, forward)
        return summary

    return handle
