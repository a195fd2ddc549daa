"""The bus consumer: every event on queue ``berth.audit`` becomes one record.

A batch of events is appended at once (:func:`append_rows`): one chain lock,
one look-up of the ids, one insert, one log line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy.orm import Session

from berth.audit import metrics
from berth.audit.forwarding import SyslogForwarder
from berth.audit.models import AuditRecord
from berth.audit.services.recorder import append_rows
from berth.common.db import after_commit
from berth.common.events.base import Envelope

log = structlog.get_logger(__name__)

CONSUMER = "audit"
Summary = dict[str, Any]
Handler = Callable[[Session, Envelope], Summary]
BatchHandler = Callable[[Session, list[Envelope]], list[Summary]]


def _write(session: Session, envelopes: list[Envelope]
           ) -> tuple[list[Summary], list[dict[str, Any]]]:
    # Plain rows, not ORM objects: building 256 of those per batch cost more
    # than hashing them.
    rows = append_rows(session, envelopes)
    summaries: list[Summary] = []
    written: list[dict[str, Any]] = []
    groups: Counter[str] = Counter()
    for row in rows:
        if row is None:
            summaries.append({"duplicate": True})
            continue
        written.append(row)
        summaries.append({"record_id": row["id"], "action": row["action"]})
        groups[metrics.group_of(row["action"])] += 1
        lag = (row["recorded_at"] - row["occurred_at"]).total_seconds()
        metrics.LAG.observe(max(lag, 0.0))
    if len(written) < len(rows):
        metrics.DUPLICATES.inc(len(rows) - len(written))
    for group, count in groups.items():
        metrics.RECORDS_WRITTEN.labels(group).inc(count)
    if written:
        log.info("audit_records_written", count=len(written),
                 first_record_id=written[0]["id"], last_record_id=written[-1]["id"])
    return summaries, written


def record_event(session: Session, env: Envelope) -> Summary:
    """ConsumerWorker handler: append ``env``; the runner commits and acks."""
    return _write(session, [env])[0][0]


def make_batch_handler(forwarder: SyslogForwarder | None = None) -> BatchHandler:
    """The consumer's batch handler, forwarding each new record once it is
    committed."""

    def handle(session: Session, envelopes: list[Envelope]) -> list[Summary]:
        summaries, written = _write(session, envelopes)
        if forwarder is not None and written:
            sent = [AuditRecord(**row) for row in written]

            def forward() -> None:
                for record in sent:
                    forwarder.send(record)

            after_commit(session, forward)
        return summaries

    return handle


def make_handler(forwarder: SyslogForwarder | None = None) -> Handler:
    """The consumer's handler for one event (a batch that failed is retried
    one event at a time)."""
    batch = make_batch_handler(forwarder)

    def handle(session: Session, env: Envelope) -> Summary:
        return batch(session, [env])[0]

    return handle
