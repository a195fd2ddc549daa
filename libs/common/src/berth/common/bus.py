"""The event bus on kombu: RabbitMQ when ``BERTH_AMQP_URL`` is set, the embedded
at-least-once filesystem transport (:mod:`berth.common.bus_fs`) otherwise.

One durable topic exchange, ``berth.events``; routing key = event type. Every
consumer queue is declared by every process that connects (see ``TOPOLOGY``),
so an event published before its consumer first started is never dropped.
Poison messages go to ``<queue>.dead`` through the ``berth.dead`` exchange.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from contextlib import nullcontext
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
PING_TIMEOUT = 3.0  # seconds a health check waits for the broker's answer

#: consumer name -> routing keys it binds. Add a consumer here, nowhere else.
TOPOLOGY: dict[str, tuple[str, ...]] = {
    "catalog": ("registry.#", "identity.user.#"),
    "audit": ("#",),
    "syncer": ("catalog.tag.delete_requested", "catalog.registry.#",
               "catalog.repository.deleted"),
    "webhooks": ("registry.manifest.#",),
    "scanner": ("registry.manifest.pushed",),
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
                          transport_options={"max_retries": 2})
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
        self._tx = False

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
        """Publish persistently; returns once the broker took them all. Raises BusError."""
        self._send([(env.to_json(), EXCHANGE, env.type, env.id) for env in envelopes])

    def publish_raw(self, messages: Iterable[tuple[str, str, str]]) -> None:
        """Publish envelopes already serialised, as ``(body, type, id)``; as publish."""
        # An outbox row holds the envelope's JSON: parsing it only to
        # serialise it again would cost more than sending it.
        self._send([(body, EXCHANGE, event_type, event_id)
                    for body, event_type, event_id in messages])

    def dead_letter(self, consumer: str, body: Any, reason: str) -> None:
        """Send an unprocessable message to ``consumer``'s dead-letter queue."""
        payload = json.dumps({"reason": reason, "body": body}, default=str)
        self._send([(payload, DEAD_EXCHANGE, queue_name(consumer), None)])

    def _send(self, messages: list[tuple[str, Exchange, str, str | None]]) -> None:
        # On RabbitMQ a batch is one AMQP transaction: tx.commit-ok means the
        # broker stored every persistent message, in one round trip per batch
        # instead of one publisher confirm per message.
        if not messages:
            return
        try:
            self._send_once(messages)
        except BusError:
            # An idle connection the broker closed shows up only now: retry once
            # on a fresh one before leaving the events to the outbox relay.
            self._send_once(messages)

    def _send_once(self, messages: list[tuple[str, Exchange, str, str | None]]) -> None:
        with self._lock:
            try:
                conn = self._connected()
                channel = conn.default_channel
                if self.amqp_url and not self._tx:
                    channel.tx_select()
                    self._tx = True
                producer = conn.Producer(channel=channel)
                # Embedded, the batch's files are written together at the end
                # (a message bound to several queues is written once).
                batched = getattr(channel, "batched_puts", None)
                with batched() if batched is not None else nullcontext():
                    for body, exchange, routing_key, message_id in messages:
                        producer.publish(
                            body, exchange=exchange, routing_key=routing_key,
                            delivery_mode=2, content_type="application/json",
                            content_encoding="utf-8", message_id=message_id,
                            retry=False)
                if self._tx:
                    channel.tx_commit()
            except Exception as exc:  # kombu raises many transport-specific types
                self._reset()
                raise BusError(f"publish failed: {exc}") from exc

    def ping(self) -> None:
        """Raise if the broker cannot be reached."""
        with self._lock:
            try:
                conn = self._connected()
                if self.amqp_url:
                    # A connection the broker dropped while idle (a restart) still
                    # looks connected until used: one bounded round trip proves it.
                    with conn.connection.transport.having_timeout(PING_TIMEOUT):
                        conn.default_channel.exchange_declare(
                            EXCHANGE.name, EXCHANGE.type, passive=True)
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
        self._tx = False
