"""The embedded transport's queue folder: first in, first out, one listing
for many messages, and nothing lost when a listed message goes away."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from berth.common.bus import Bus, queue_name, queues_for
from berth.common.events.base import Envelope


def _envelope(n: int, event_type: str = "test.thing.happened") -> Envelope:
    return Envelope(id=f"evt-{n}", type=event_type, version=1,
                    occurred_at="2026-01-01T00:00:00Z", producer="test",
                    correlation_id=None, actor={"name": "system"}, data={"n": n})


@pytest.fixture
def bus(berth_home: Path) -> Any:
    b = Bus(None, berth_home, "test")
    b.declare()
    yield b
    b.close()


def _queue_folder(home: Path) -> Path:
    return home / "bus" / "queue"


def _take(bus: Bus, count: int) -> list[int]:
    """Take and ack up to ``count`` messages of the audit queue."""
    got: list[int] = []
    with bus.connection() as conn:
        main, _ = queues_for("audit")
        queue = main(conn.default_channel)
        while len(got) < count and (m := queue.get()) is not None:
            got.append(Envelope.from_json(m.payload).data["n"])
            m.ack()
    return got


def test_a_backlog_comes_out_in_order_from_few_listings(
        bus: Bus, berth_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bus.publish([_envelope(n) for n in range(60)])
    folder = str(_queue_folder(berth_home))
    listings: list[str] = []
    real = os.listdir

    def counted(path: Any = ".") -> list[str]:
        if str(path) == folder:
            listings.append(str(path))
        return real(path)

    monkeypatch.setattr(os, "listdir", counted)
    assert _take(bus, 60) == list(range(60))
    # One listing for the backlog (plus kombu's own queue-size checks, if any),
    # where taking each message used to list the folder again.
    assert len(listings) <= 3
    assert not [n for n in real(folder) if n.endswith(".msg")]


def test_messages_published_after_a_listing_follow_it(bus: Bus) -> None:
    bus.publish([_envelope(n) for n in range(5)])
    with bus.connection() as conn:
        main, _ = queues_for("audit")
        queue = main(conn.default_channel)
        first = queue.get()
        assert first is not None
        first.ack()
        bus.publish([_envelope(n) for n in range(5, 8)])
        got = [Envelope.from_json(first.payload).data["n"]]
        while (m := queue.get()) is not None:
            got.append(Envelope.from_json(m.payload).data["n"])
            m.ack()
    assert got == list(range(8))


def test_a_listed_message_another_consumer_took_is_skipped(
        bus: Bus, berth_home: Path) -> None:
    bus.publish([_envelope(n) for n in range(4)])
    folder = _queue_folder(berth_home)
    with bus.connection() as conn:
        main, _ = queues_for("audit")
        queue = main(conn.default_channel)
        first = queue.get()  # lists all four
        assert first is not None
        first.ack()
        second_name = min(n for n in os.listdir(folder)
                          if n.endswith(f"{queue_name('audit')}.msg"))
        os.unlink(folder / second_name)  # as if another process had taken it
        rest = []
        while (m := queue.get()) is not None:
            rest.append(Envelope.from_json(m.payload).data["n"])
            m.ack()
    assert rest == [2, 3]


def test_a_requeued_message_is_delivered_again(bus: Bus) -> None:
    bus.publish([_envelope(n) for n in range(3)])
    with bus.connection() as conn:
        main, _ = queues_for("audit")
        queue = main(conn.default_channel)
        first = queue.get()
        assert first is not None
        first.requeue()
        got = []
        while (m := queue.get()) is not None:
            got.append(Envelope.from_json(m.payload).data["n"])
            m.ack()
    assert sorted(got) == [0, 1, 2]


def test_taken_messages_wait_in_flight_until_acked(bus: Bus, berth_home: Path
                                                   ) -> None:
    bus.publish([_envelope(n) for n in range(3)])
    inflight = berth_home / "bus" / "inflight"
    with bus.connection() as conn:
        main, _ = queues_for("audit")
        queue = main(conn.default_channel)
        taken = [queue.get(), queue.get()]
        assert all(m is not None for m in taken)
        assert len(list(inflight.iterdir())) == 2
        taken[0].ack()
        assert len(list(inflight.iterdir())) == 1
    # The channel closed with message 1 unacked: it is back in its queue, once.
    assert not list(inflight.iterdir())
    assert _take(bus, 10) == [1, 2]


def test_a_dead_consumers_messages_are_recovered_once(bus: Bus, berth_home: Path
                                                      ) -> None:
    bus.publish([_envelope(n) for n in range(5)])
    inflight = berth_home / "bus" / "inflight"
    folder = _queue_folder(berth_home)
    names = sorted(os.listdir(folder))[:3]
    for name in names:  # what a consumer killed with SIGKILL leaves behind
        os.replace(folder / name, inflight / name)
    with bus.connection() as conn:
        assert conn.default_channel.recover_inflight(queue_name("audit")) == 3
        assert conn.default_channel.recover_inflight(queue_name("audit")) == 0
    assert _take(bus, 10) == [0, 1, 2, 3, 4]
    assert not list(inflight.iterdir())


def test_a_closed_channel_puts_back_only_its_own_queue_messages(
        bus: Bus, berth_home: Path) -> None:
    # Bound by the catalog, webhooks and scanner queues too.
    bus.publish([_envelope(n, "registry.manifest.pushed") for n in range(2)])
    with bus.connection() as conn:
        main, _ = queues_for("audit")
        assert main(conn.default_channel).get() is not None  # never acked
    other = sorted(n for n in os.listdir(_queue_folder(berth_home))
                   if n.endswith(".msg") and not n.endswith(
                       f"{queue_name('audit')}.msg"))
    assert len(other) == 6
    assert _take(bus, 10) == [0, 1]
    # No copy went through the exchange to the queues bound to the same key.
    assert sorted(n for n in os.listdir(_queue_folder(berth_home))
                  if n.endswith(".msg")) == other
