"""Publish after commit, through an outbox table so nothing is lost.

A service adds events to the outbox inside the transaction that causes them;
after the commit they are published at once, and :meth:`Outbox.relay` (run by
the service's worker) republishes whatever a crash or a broker outage left
behind. Consumers are idempotent, so a rare double publish is harmless.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    insert,
    select,
)
from sqlalchemy.orm import Session, sessionmaker

from berth.common.bus import Bus, BusError
from berth.common.db import after_commit
from berth.common.events.base import Actor, Envelope, Event

log = structlog.get_logger(__name__)


def bus_tables(metadata: MetaData) -> tuple[Table, Table]:
    """Define the outbox and processed-events tables on a service's metadata."""
    outbox = Table(
        "outbox", metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("event_type", String(128), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", DateTime, nullable=False),
    )
    processed = Table(
        "processed_events", metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("consumer", String(64), nullable=False),
        Column("event_id", String(64), nullable=False),
        Column("processed_at", DateTime, nullable=False),
        Column("summary", JSON, nullable=True),
        UniqueConstraint("consumer", "event_id"),
    )
    return outbox, processed


class Outbox:
    """Events of one producer, written in the caller's transaction."""

    def __init__(self, table: Table, bus: Bus | None, producer: str) -> None:
        self.table = table
        self.bus = bus
        self.producer = producer

    def add(self, session: Session, event: Event, *, actor: Actor | None = None,
            correlation_id: str | None = None, event_id: str | None = None) -> Envelope:
        """Store ``event``; it is published after ``session`` commits."""
        env = Envelope.wrap(event, producer=self.producer, actor=actor,
                            correlation_id=correlation_id, event_id=event_id)
        self.add_envelope(session, env)
        return env

    def add_envelope(self, session: Session, env: Envelope) -> None:
        """Store a ready envelope (e.g. one built from a registry notification)."""
        session.execute(insert(self.table).values(
            event_id=env.id, event_type=env.type, body=env.to_json(),
            created_at=datetime.now(UTC).replace(tzinfo=None)))
        pending: list[Envelope] = session.info.setdefault("berth_outbox", [])
        if not pending:
            factory = _factory_of(session)
            after_commit(session, lambda: self._flush(factory, pending))
        pending.append(env)

    def _flush(self, factory: sessionmaker[Session] | None,
               pending: list[Envelope]) -> None:
        envs = list(pending)
        pending.clear()
        if self.bus is None or factory is None or not envs:
            return
        try:
            self.bus.publish(envs)
        except BusError as exc:
            log.warning("outbox_publish_deferred", count=len(envs), error=str(exc))
            return
        try:
            with factory.begin() as s:
                s.execute(delete(self.table).where(
                    self.table.c.event_id.in_([e.id for e in envs])))
        except Exception as exc:  # the relay will publish again; consumers dedupe
            log.warning("outbox_cleanup_failed", error=str(exc))

    def relay(self, factory: sessionmaker[Session], *, older_than: float = 5.0,
              batch: int = 200) -> int:
        """Publish what stayed in the outbox longer than ``older_than`` seconds."""
        if self.bus is None:
            return 0
        cutoff = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=older_than)
        with factory() as session:
            query = (select(self.table.c.id, self.table.c.event_id,
                            self.table.c.event_type, self.table.c.body)
                     .where(self.table.c.created_at <= cutoff)
                     .order_by(self.table.c.id).limit(batch))
            if session.get_bind().dialect.name == "mysql":
                query = query.with_for_update(skip_locked=True)
            rows = session.execute(query).all()
            if not rows:
                return 0
            # The stored body is the envelope's JSON: sent as it is.
            self.bus.publish_raw([(r.body, r.event_type, r.event_id) for r in rows])
            session.execute(delete(self.table).where(
                self.table.c.id.in_([r.id for r in rows])))
            session.commit()
        log.info("outbox_relayed", count=len(rows))
        return len(rows)


def _factory_of(session: Session) -> sessionmaker[Session] | None:
    factory = session.info.get("berth_factory")
    return factory if isinstance(factory, sessionmaker) else None
