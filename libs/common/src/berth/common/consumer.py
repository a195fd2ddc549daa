"""The consumer base: idempotent, acks after commit, requeues transient
failures, dead-letters poison messages.

A handler receives a session and an envelope and does its work in that
session; the runner records the event id in ``processed_events`` in the same
transaction, commits, and only then acks. A redelivered event whose id is
already recorded is acked without calling the handler again.

Messages already waiting (up to ``batch``) are handled together: one
transaction, one look-up of their ids in ``processed_events``, one insert of
the new ones, one commit, then every ack. A batch holds only what the broker
has delivered, so a lone event is never held back waiting for company. A
consumer that can do a batch's work at once (the audit log's chain) passes a
``batch_handler``; otherwise the handler runs once per event. If anything in
a batch fails, the whole transaction is rolled back and each message is
handled on its own, with the usual retry and dead-letter rules.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from berth.common.bus import Bus, BusError, queue_name, queues_for
from berth.common.events.base import Envelope, InvalidEvent

log = structlog.get_logger(__name__)

Handler = Callable[[Session, Envelope], "dict[str, Any] | None"]
#: (session, new envelopes in order) -> one summary per envelope, in order.
BatchHandler = Callable[[Session, list[Envelope]],
                        "Sequence[dict[str, Any] | None]"]
MAX_ATTEMPTS = 8
#: Event ids per ``processed_events`` look-up (bound values stay far under
#: SQLite's and MariaDB's limits).
LOOKUP_CHUNK = 500


class Transient(Exception):
    """Try again later (a dependency is down); the message is requeued."""


class Poison(Exception):
    """This message can never be processed; it goes to the dead-letter queue."""


PROCESSED = "processed"
DUPLICATE = "duplicate"
DEAD = "dead"
REQUEUE = "requeue"


class ConsumerWorker:
    """Runs one handler over one queue."""

    def __init__(self, *, bus: Bus, name: str, handler: Handler,
                 factory: sessionmaker[Session], processed: Table,
                 prefetch: int = 16, batch: int = 16,
                 batch_handler: BatchHandler | None = None) -> None:
        self.bus = bus
        self.name = name
        self.handler = handler
        self.batch_handler = batch_handler
        self.factory = factory
        self.processed = processed
        self.prefetch = prefetch
        self.batch = max(1, min(batch, prefetch))
        self._attempts: dict[str, int] = {}

    def handle_body(self, body: Any) -> str:
        """Process one message body; return what to do with the message."""
        try:
            env = Envelope.from_json(body)
        except InvalidEvent as exc:
            return self._dead(body, f"invalid envelope: {exc}", None)
        with self.factory() as session:
            try:
                if self._seen(session, env.id):
                    return DUPLICATE
                summary = self.handler(session, env)
                session.execute(insert(self.processed).values(
                    consumer=self.name, event_id=env.id, summary=summary,
                    processed_at=datetime.now(UTC).replace(tzinfo=None)))
                session.commit()
            except (InvalidEvent, Poison, ValueError, KeyError, TypeError) as exc:
                session.rollback()
                return self._dead(body, f"{type(exc).__name__}: {exc}", env)
            except IntegrityError as exc:
                session.rollback()
                if self._seen(session, env.id):
                    return DUPLICATE
                return self._retry(body, env, exc)
            except (OperationalError, PoolTimeout, Transient, BusError) as exc:
                session.rollback()
                return self._retry(body, env, exc)
            except Exception as exc:  # noqa: BLE001 - unknown: retry, then give up
                session.rollback()
                log.exception("consumer_handler_failed", consumer=self.name,
                              event_id=env.id, event_type=env.type)
                return self._retry(body, env, exc)
        self._attempts.pop(env.id, None)
        log.info("event_processed", consumer=self.name, event_id=env.id,
                 event_type=env.type)
        return PROCESSED

    def handle_batch(self, bodies: list[Any]) -> list[str]:
        """Process several message bodies in one transaction; return what to
        do with each message, in order."""
        if len(bodies) == 1:
            return [self.handle_body(bodies[0])]
        try:
            envelopes = [Envelope.from_json(body) for body in bodies]
        except InvalidEvent:
            return [self.handle_body(body) for body in bodies]
        outcomes: list[str] = []
        with self.factory() as session:
            try:
                seen = self._seen_many(session, (env.id for env in envelopes))
                fresh: list[Envelope] = []
                for env in envelopes:
                    if env.id in seen:  # recorded before, or earlier in the batch
                        outcomes.append(DUPLICATE)
                        continue
                    seen.add(env.id)
                    fresh.append(env)
                    outcomes.append(PROCESSED)
                if fresh:
                    self._handle_fresh(session, fresh)
                session.commit()
            except Exception as exc:  # noqa: BLE001 - each message on its own instead
                session.rollback()
                log.info("batch_split", consumer=self.name, size=len(bodies),
                         error=f"{type(exc).__name__}: {str(exc)[:200]}")
                return [self.handle_body(body) for body in bodies]
        for env in envelopes:
            self._attempts.pop(env.id, None)
        processed = outcomes.count(PROCESSED)
        log.info("events_processed", consumer=self.name, processed=processed,
                 duplicates=len(outcomes) - processed,
                 first_event_id=envelopes[0].id, last_event_id=envelopes[-1].id)
        return outcomes

    def _handle_fresh(self, session: Session, fresh: list[Envelope]) -> None:
        if self.batch_handler is not None:
            summaries = self.batch_handler(session, fresh)
            if len(summaries) != len(fresh):
                raise TypeError(f"batch handler of {self.name} returned "
                                f"{len(summaries)} summaries for {len(fresh)} events")
        else:
            summaries = [self.handler(session, env) for env in fresh]
        now = datetime.now(UTC).replace(tzinfo=None)
        session.execute(insert(self.processed), [
            {"consumer": self.name, "event_id": env.id, "summary": summary,
             "processed_at": now}
            for env, summary in zip(fresh, summaries, strict=True)])

    def _seen(self, session: Session, event_id: str) -> bool:
        found = session.scalar(select(self.processed.c.id).where(
            self.processed.c.consumer == self.name,
            self.processed.c.event_id == event_id))
        return found is not None

    def _seen_many(self, session: Session, event_ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(event_ids))
        found: set[str] = set()
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            found.update(session.scalars(select(self.processed.c.event_id).where(
                self.processed.c.consumer == self.name,
                self.processed.c.event_id.in_(wanted[start:start + LOOKUP_CHUNK]))))
        return found

    def _retry(self, body: Any, env: Envelope, exc: Exception) -> str:
        attempts = self._attempts.get(env.id, 0) + 1
        self._attempts[env.id] = attempts
        if attempts >= MAX_ATTEMPTS:
            return self._dead(body, f"gave up after {attempts} attempts: {exc}", env)
        log.warning("event_requeued", consumer=self.name, event_id=env.id,
                    attempts=attempts, error=str(exc)[:200])
        time.sleep(min(0.2 * 2 ** attempts, 5.0))
        return REQUEUE

    def _dead(self, body: Any, reason: str, env: Envelope | None) -> str:
        log.error("event_dead_lettered", consumer=self.name, reason=reason[:300],
                  event_id=env.id if env else None)
        self.bus.dead_letter(self.name, body, reason)
        if env is not None:
            self._attempts.pop(env.id, None)
        return DEAD

    def run(self, stop: threading.Event,
            idle: Callable[[], None] | None = None, idle_every: float = 2.0) -> None:
        """Consume until ``stop`` is set, reconnecting after broker failures."""
        while not stop.is_set():
            try:
                self._consume(stop, idle, idle_every)
            except Exception as exc:  # broker gone: back off and reconnect
                log.warning("consumer_disconnected", consumer=self.name,
                            error=str(exc)[:200])
                stop.wait(2.0)

    def _consume(self, stop: threading.Event, idle: Callable[[], None] | None,
                 idle_every: float) -> None:
        with self.bus.connection() as conn:
            conn.ensure_connection(max_retries=3)
            self.bus.declare(conn)
            channel = conn.default_channel
            if hasattr(channel, "recover_inflight"):
                moved = channel.recover_inflight(queue_name(self.name))
                if moved:
                    log.info("inflight_recovered", consumer=self.name, count=moved)
            main, _dead = queues_for(self.name)
            pending: list[tuple[Any, Any]] = []

            def on_message(body: Any, message: Any) -> None:
                pending.append((body, message))

            with conn.Consumer([main], callbacks=[on_message], accept=["json"],
                               prefetch_count=self.prefetch):
                log.info("consumer_started", consumer=self.name)
                last_idle = 0.0
                while not stop.is_set():
                    try:
                        conn.drain_events(timeout=0.5)
                        # Take what is already waiting, without waiting for more.
                        while len(pending) < self.batch:
                            conn.drain_events(timeout=0.005)
                    except TimeoutError:
                        pass
                    if pending:
                        self._settle(pending)
                        pending.clear()
                    if idle is not None and time.monotonic() - last_idle > idle_every:
                        last_idle = time.monotonic()
                        try:
                            idle()
                        except Exception as exc:  # noqa: BLE001 - keep consuming
                            log.warning("idle_task_failed", error=str(exc)[:200])


    def _settle(self, pending: list[tuple[Any, Any]]) -> None:
        outcomes = self.handle_batch([body for body, _message in pending])
        for (_body, message), outcome in zip(pending, outcomes, strict=True):
            if outcome == REQUEUE:
                message.requeue()
            else:
                message.ack()


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT, for worker main loops."""
    stop = threading.Event()

    def _set(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _set)
    signal.signal(signal.SIGINT, _set)
    return stop
