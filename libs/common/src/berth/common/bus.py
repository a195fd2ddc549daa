"""The event bus on kombu: RabbitMQ when ``BERTH_AMQP_URL`` is set, the embedded
at-least-once filesystem transport (:mod:`berth.common.bus_fs`) otherwise.

One durable topic exchange, ``berth.events``; routing key = event type. Every
consumer queue is declared by every process that connects (see ``TOPOLOGY``),
so an event published before its consumer first started is never dropped.
Poison messages go to ``<queue>.dead`` through the ``berth.dead`` exchange.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import structlog
from kombu import Connection, Exchange, Queue
from kombu.transport import TRANSPORT_ALIASES

from berth.common import bus_fs
from berth.common.events.base import Envelope

log = structlog.get_logger(__name__)

TRANSPORT_ALIASES["berthfs"] = "berth.common.bus_fs:Transport"

EXCHANGE = Exchange("berth.events", type="topic", durable=True)
DEAD_EXCHANGE = Exchange("berth.dead", type="direct", durable=True)

#: consumer name -> routing keys it binds. Add a consumer here, nowhere else.
TOPOLOGY: dict[str, tuple[str, ...]] = {
    "catalog": ("registry.#", "identity.user.#"),
    "audit": ("#",),
    "syncer": ("catalog.tag.delete_requested", "catalog.registry.#",
               "catalog.repository.deleted"),
    "webhooks": ("registry.manifest.#",),
}


class BusError(Exception):
    """The bus could not take a message (publish not confirmed, broker down)."""


def queue_name(consumer: str) -> str:
    """The durable queue of ``consumer``."""
    return f"berth.{consumer}"


def queues_for(consumer: str) -> tuple[Queue, Queue]:
    """(main queue with its bindings, dead-letter queue) of ``consumer``."""
    from kombu import binding

    keys = TOPOLOGY[consumer]
    main = Queue(queue_name(consumer), exchange=EXCHANGE,
                 bindings=[binding(EXCHANGE, routing_key=k) for k in keys],
                 durable=True)
    dead = Queue(f"{queue_name(consumer)}.dead", exchange=DEAD_EXCHANGE,
                 routing_key=queue_name(consumer), durable=True)
    return main, dead


def connection_for(amqp_url: str | None, home: Path) -> Connection:
    """A kombu connection: RabbitMQ if ``amqp_url``, else the embedded transport."""
    if amqp_url:
        return Connection(amqp_url, connect_timeout=5, heartbeat=30,
                          transport_options={"confirm_publish": True,
                                             "max_retries": 2})
    return Connection("berthfs://", transport_options=bus_fs.transport_options(home))


class Bus:
    """Publishing side of the bus for one process (thread-safe, lazy connect)."""

    def __init__(self, amqp_url: str | None, home: Path, producer: str) -> None:
        self.amqp_url = amqp_url
        self.home = home
        self.producer = producer
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._declared = False

    @property
    def embedded(self) -> bool:
        """True when no broker is configured."""
        return not self.amqp_url

    def connection(self) -> Connection:
        """A new connection (callers close it)."""
        return connection_for(self.amqp_url, self.home)

    def declare(self, conn: Connection | None = None) -> None:
        """Declare the exchanges and every consumer queue (idempotent)."""
        own = conn is None
        conn = conn or self.connection()
        try:
            channel = conn.default_channel
            EXCHANGE(channel).declare()
            DEAD_EXCHANGE(channel).declare()
            for consumer in TOPOLOGY:
                for q in queues_for(consumer):
                    q(channel).declare()
        finally:
            if own:
                conn.release()

    def publish(self, envelopes: Iterable[Envelope]) -> None:
        """Publish persistently; returns once the broker confirmed. Raises BusError."""
        batch = list(envelopes)
        if not batch:
            return
        with self._lock:
            try:
                conn = self._connected()
                producer = conn.Producer(serializer="json")
                for env in batch:
                    producer.publish(
                        env.to_json(), exchange=EXCHANGE, routing_key=env.type,
                        delivery_mode=2, content_type="application/json",
                        content_encoding="utf-8", message_id=env.id,
                        retry=True, retry_policy={"max_retries": 2,
                                                  "interval_start": 0.1,
                                                  "interval_step": 0.2},
                    )
            except Exception as exc:  # kombu raises many transport-specific types
                self._reset()
                raise BusError(f"publish failed: {exc}") from exc

    def dead_letter(self, consumer: str, body: Any, reason: str) -> None:
        """Send an unprocessable message to ``consumer``'s dead-letter queue."""
        with self._lock:
            try:
                conn = self._connected()
                conn.Producer(serializer="json").publish(
                    {"reason": reason, "body": body}, exchange=DEAD_EXCHANGE,
                    routing_key=queue_name(consumer), delivery_mode=2)
            except Exception as exc:
                self._reset()
                raise BusError(f"dead-letter failed: {exc}") from exc

    def ping(self) -> None:
        """Raise if the broker cannot be reached."""
        with self._lock:
            try:
                self._connected()
            except Exception as exc:
                self._reset()
                raise BusError(str(exc)) from exc

    def close(self) -> None:
        """Release the connection."""
        with self._lock:
            self._reset()

    def _connected(self) -> Connection:
        if self._conn is None:
            conn = self.connection()
            conn.ensure_connection(max_retries=1)
            self._conn = conn
        elif self.amqp_url and not self._conn.connected:
            self._reset()
            return self._connected()
        if not self._declared:
            self.declare(self._conn)
            self._declared = True
        return self._conn

    def _reset(self) -> None:
        if self._conn is not None:
            try:
                self._conn.release()
            except Exception:  # noqa: BLE001 - already broken; nothing to save
                pass
        self._conn = None
        self._declared = False
