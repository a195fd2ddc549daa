"""An external consumer of Berth's events (docs/events.md): binds its own
durable queue to the ``berth.events`` topic exchange and prints audit-worthy
events, one JSON line each (a SIEM, chat bot or billing job starts from the
same few lines).

    python services/audit/examples/event_printer.py \
        --amqp-url amqp://guest:guest@127.0.0.1:5672/ --queue siem

Without ``--bind`` it takes what an auditor wants: logins, users and tokens,
every catalog change, pushes and deletions, reconcile runs (not pulls; add
``--bind registry.manifest.pulled`` for those). Routing key = event type.
Without ``--amqp-url`` it reads the embedded bus under ``BERTH_HOME`` (same
machine only). Its queue is durable: events published while it is stopped
wait for it. Delivery is at least once, so it remembers the ids it printed
and skips repeats (a real consumer keeps them in its own store, in the same
transaction as its work, and acks after that commits).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from kombu import Connection, Queue, binding

from berth.common.bus import EXCHANGE, connection_for

AUDIT_WORTHY = ("identity.#", "catalog.#", "registry.manifest.pushed",
                "registry.manifest.deleted", "registry.tag.removed", "sync.run.#")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--amqp-url", default=os.environ.get("BERTH_AMQP_URL", ""))
    parser.add_argument("--home", default=os.environ.get("BERTH_HOME", "./var"))
    parser.add_argument("--queue", default="event-printer",
                        help="your durable queue's name; keep it stable (names "
                             "starting with 'berth.' are Berth's own)")
    parser.add_argument("--bind", action="append", default=[],
                        help="routing key pattern; repeatable (default: the "
                             "audit-worthy events)")
    parser.add_argument("--max-events", type=int, default=0,
                        help="exit after printing this many events (0 = never)")
    parser.add_argument("--idle-timeout", type=float, default=0.0,
                        help="exit after this many quiet seconds (0 = never)")
    args = parser.parse_args(argv)
    if args.queue.startswith("berth."):
        parser.error("queue names starting with 'berth.' belong to Berth's services")
    return args


def line(body: dict[str, Any]) -> str:
    """The printed form: when, what, who, and the event's data."""
    actor = body.get("actor") or {}
    return json.dumps({"id": body.get("id"), "type": body.get("type"),
                       "version": body.get("version"),
                       "occurred_at": body.get("occurred_at"),
                       "producer": body.get("producer"),
                       "actor": actor.get("name"), "address": actor.get("address"),
                       "data": body.get("data")}, sort_keys=True)


def run(args: argparse.Namespace) -> int:
    """Consume until enough events were printed or the bus stayed quiet."""
    patterns = args.bind or list(AUDIT_WORTHY)
    queue = Queue(args.queue, exchange=EXCHANGE, durable=True,
                  bindings=[binding(EXCHANGE, routing_key=p) for p in patterns])
    conn: Connection = connection_for(args.amqp_url or None, Path(args.home).resolve())
    printed: set[str] = set()
    quiet = 0.0
    with conn:
        conn.ensure_connection(max_retries=3)
        EXCHANGE(conn.default_channel).declare()
        queue(conn.default_channel).declare()

        def on_message(body: Any, message: Any) -> None:
            event = json.loads(body) if isinstance(body, str | bytes) else body
            if isinstance(event, dict) and str(event.get("id")) not in printed:
                printed.add(str(event.get("id")))
                print(line(event), flush=True)
            message.ack()   # after the work: here, printing

        with conn.Consumer([queue], callbacks=[on_message], accept=["json"]):
            while not args.max_events or len(printed) < args.max_events:
                try:
                    conn.drain_events(timeout=0.5)
                    quiet = 0.0
                except TimeoutError:
                    quiet += 0.5
                    if args.idle_timeout and quiet >= args.idle_timeout:
                        break
    return 0


if __name__ == "__main__":
    sys.exit(run(parse_args(sys.argv[1:])))
