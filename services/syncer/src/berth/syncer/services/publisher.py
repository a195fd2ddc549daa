"""Publishes a reconcile's outbox rows while the walk goes on.

A reconcile into an empty catalog produces an event per tag, and the bus
confirms (or, embedded, fsyncs) each message on its own; one connection would
make publishing the run's bottleneck. Several connections publish disjoint
slices of the outbox (row id modulo the worker count) at the same time, while
the registry is still being listed. Whatever is left (bus down) stays in the
outbox for the worker's relay.
"""

from __future__ import annotations

import threading

import structlog
from berth.common.bus import Bus
from berth.common.events.base import Envelope
from berth.common.outbox import Outbox
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

log = structlog.get_logger(__name__)
ROWS_PER_BATCH = 200


class Publisher:
    """``workers`` threads, each with its own bus connection."""

    def __init__(self, outbox: Outbox, factory: sessionmaker[Session],
                 workers: int = 4) -> None:
        self.table = outbox.table
        self.factory = factory
        bus = outbox.bus
        self.buses = ([Bus(bus.amqp_url, bus.home, bus.producer) for _ in range(workers)]
                      if bus is not None else [])
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self._loop, args=(k,), daemon=True,
                                         name=f"reconcile-publisher-{k}")
                        for k in range(len(self.buses))]

    def start(self) -> None:
        """Begin publishing."""
        for thread in self.threads:
            thread.start()

    def finish(self, timeout: float = 300.0) -> None:
        """Publish what is left, then stop and close the connections."""
        self.done.set()
        for thread in self.threads:
            thread.join(timeout)
        for bus in self.buses:
            bus.close()

    def _loop(self, k: int) -> None:
        while True:
            try:
                sent = self._relay(k)
            except Exception as exc:  # noqa: BLE001 - the worker's relay retries later
                log.warning("sync_publish_deferred", error=str(exc)[:200])
                return
            if not sent:
                if self.done.is_set():
                    return
                self.done.wait(0.1)

    def _relay(self, k: int) -> int:
        count = len(self.buses)
        with self.factory() as session:
            query = (select(self.table.c.id, self.table.c.body)
                     .where(self.table.c.id % count == k)
                     .order_by(self.table.c.id).limit(ROWS_PER_BATCH))
            if session.get_bind().dialect.name == "mysql":
                query = query.with_for_update(skip_locked=True)
            rows = session.execute(query).all()
            if not rows:
                return 0
            self.buses[k].publish([Envelope.from_json(r.body) for r in rows])
            session.execute(delete(self.table).where(
                self.table.c.id.in_([r.id for r in rows])))
            session.commit()
        return len(rows)
