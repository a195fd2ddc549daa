"""Publishes a reconcile's events as soon as the batch that wrote them commits.

The applier writes each batch's events to the outbox in the batch's own
transaction and, once it has committed, hands the same rows here: one thread
publishes them (every batch waiting at that moment in one bus transaction)
and deletes their outbox rows. Nothing is read back from the table and
nothing polls it, so a run that changes nothing costs the bus nothing.

The hand-off is bounded: when the bus is slower than the walk, the walk
waits, and memory stays flat whatever the registry's size. Whatever could not
be published (bus down) stays in the outbox for the worker's relay.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from typing import Any

import structlog
from berth.common.bus import Bus
from berth.common.outbox import Outbox
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

log = structlog.get_logger(__name__)
ROWS_PER_PUBLISH = 2000  # at most this many rows in one bus transaction
DELETE_CHUNK = 500       # event ids per DELETE statement
WAITING_BATCHES = 8      # committed batches waiting to be published, at most

OutboxRow = dict[str, Any]  # event_id, event_type, body (as inserted)


class Publisher:
    """One thread with its own bus connection, fed after each commit."""

    def __init__(self, outbox: Outbox, factory: sessionmaker[Session],
                 waiting: int = WAITING_BATCHES) -> None:
        self.table = outbox.table
        self.factory = factory
        bus = outbox.bus
        self.bus = Bus(bus.amqp_url, bus.home, bus.producer) if bus is not None else None
        self.failed = False
        self.published = 0
        self._queue: queue.Queue[Sequence[OutboxRow] | None] = queue.Queue(waiting)
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name="reconcile-publisher")

    def start(self) -> None:
        """Begin publishing."""
        if self.bus is not None:
            self._thread.start()

    def committed(self, rows: Sequence[OutboxRow]) -> None:
        """Publish ``rows``, whose transaction has committed (blocks when behind)."""
        if rows and self.bus is not None and not self.failed:
            self._offer(rows)

    def finish(self, timeout: float = 300.0) -> None:
        """Publish what is waiting, then stop and close the connection."""
        if self.bus is None:
            return
        self._offer(None)
        self._thread.join(timeout)
        self.bus.close()

    def _offer(self, item: Sequence[OutboxRow] | None) -> None:
        # Wait for room only while the thread lives (after a failure it only
        # drains): a walk must never hang on a publisher that died.
        while self._thread.is_alive():
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def _loop(self) -> None:
        last = False
        while not last:
            rows: list[OutboxRow] = []
            item = self._queue.get()
            # Take every batch already waiting as well: one bus transaction
            # and one DELETE for all of them when publishing falls behind.
            while item is not None:
                rows.extend(item)
                if len(rows) >= ROWS_PER_PUBLISH:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            last = item is None
            if rows and not self.failed:
                try:
                    self._publish(rows)
                except Exception as exc:  # noqa: BLE001 - the worker's relay retries later
                    # Keep draining (the walk must not block on a full queue),
                    # but publish nothing more: the rows stay in the outbox.
                    self.failed = True
                    log.warning("sync_publish_deferred", count=len(rows),
                                error=str(exc)[:200])

    def _publish(self, rows: list[OutboxRow]) -> None:
        assert self.bus is not None
        self.bus.publish_raw([(r["body"], r["event_type"], r["event_id"]) for r in rows])
        self.published += len(rows)
        ids = [r["event_id"] for r in rows]
        with self.factory.begin() as session:
            for i in range(0, len(ids), DELETE_CHUNK):
                session.execute(delete(self.table).where(
                    self.table.c.event_id.in_(ids[i:i + DELETE_CHUNK])))
