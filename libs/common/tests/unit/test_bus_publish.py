"""The publishing side of the bus: envelopes already serialised (an outbox
row's body) go out unchanged, routed by their type, on either transport."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from berth.common.bus import Bus, BusError, queues_for
from berth.common.events.base import Envelope


def _envelope(n: int, event_type: str) -> Envelope:
    return Envelope(id=f"evt-{n}", type=event_type, version=1,
                    occurred_at="2026-01-01T00:00:00Z", producer="test",
                    correlation_id=None, actor={"name": "system"}, data={"n": n})


def _take(bus: Bus, consumer: str) -> list[Any]:
    got = []
    with bus.connection() as conn:
        queue = queues_for(consumer)[0](conn.default_channel)
        while (message := queue.get(no_ack=True)) is not None:
            got.append(message)
    return got


@pytest.fixture
def bus(berth_home: Path, amqp_url: str) -> Any:
    b = Bus(amqp_url or None, berth_home, "test")
    b.declare()
    for consumer in ("catalog", "syncer"):
        _take(b, consumer)
    yield b
    for consumer in ("catalog", "syncer"):
        _take(b, consumer)
    b.close()


def test_raw_bodies_go_out_unchanged_to_the_queues_their_type_binds(bus: Bus) -> None:
    pushed = [_envelope(n, "registry.manifest.pushed") for n in range(3)]
    other = _envelope(9, "catalog.repository.deleted")
    bus.publish_raw([(e.to_json(), e.type, e.id) for e in [*pushed, other]])
    catalog = _take(bus, "catalog")
    assert [m.body if isinstance(m.body, str) else m.body.decode() for m in catalog] \
        == [e.to_json() for e in pushed]
    assert [m.properties.get("message_id") for m in catalog] == [e.id for e in pushed]
    assert [Envelope.from_json(m.payload).id for m in _take(bus, "syncer")] == ["evt-9"]


def test_raw_and_parsed_publishing_deliver_the_same_message(bus: Bus) -> None:
    env = _envelope(1, "registry.manifest.pushed")
    bus.publish([env])
    bus.publish_raw([(env.to_json(), env.type, env.id)])
    first, second = _take(bus, "catalog")
    assert first.payload == second.payload
    assert first.content_type == second.content_type == "application/json"


def _files(home: Path, consumer: str) -> list[Path]:
    folder = home / "bus" / "queue"
    return sorted(p for p in folder.iterdir()
                  if p.name.endswith(f".berth.{consumer}.msg"))


@pytest.mark.parametrize("links", [True, False], ids=["hard-links", "no-hard-links"])
def test_embedded_a_message_for_several_queues_is_one_file_per_queue(
        berth_home: Path, monkeypatch: pytest.MonkeyPatch, links: bool) -> None:
    import os

    if not links:  # a file system without hard links gets copies
        def refuse(*_args: Any) -> None:
            raise OSError(1, "Operation not permitted")

        monkeypatch.setattr(os, "link", refuse)
    bus = Bus(None, berth_home, "test")
    bus.declare()
    envs = [_envelope(n, "registry.manifest.pushed") for n in range(3)]
    bus.publish_raw([(e.to_json(), e.type, e.id) for e in envs])
    # Bound by catalog, audit, webhooks and scanner: a file each, per message.
    per_queue = {c: _files(berth_home, c) for c in ("catalog", "audit", "webhooks",
                                                    "scanner")}
    assert {c: len(f) for c, f in per_queue.items()} == dict.fromkeys(per_queue, 3)
    inodes = {f.stat().st_ino for files in per_queue.values() for f in files}
    assert len(inodes) == (3 if links else 12)  # the bytes written once per message
    assert not [p for p in (berth_home / "bus" / "queue").iterdir()
                if p.name.endswith(".tmp")]
    # Taking and acking one queue's copy leaves the others whole.
    assert [Envelope.from_json(m.payload).id for m in _take(bus, "catalog")] == \
        [e.id for e in envs]
    assert _files(berth_home, "catalog") == []
    assert [Envelope.from_json(m.payload).id for m in _take(bus, "audit")] == \
        [e.id for e in envs]
    bus.close()


def test_embedded_a_failed_batch_writes_nothing(berth_home: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from kombu import messaging

    bus = Bus(None, berth_home, "test")
    bus.declare()
    real = messaging.Producer.publish
    calls = [0]

    def second_fails(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] % 2 == 0:  # the second message, on the first try and the retry
            raise OSError("disk full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(messaging.Producer, "publish", second_fails)
    envs = [_envelope(n, "registry.manifest.pushed") for n in range(3)]
    with pytest.raises(BusError):
        bus.publish_raw([(e.to_json(), e.type, e.id) for e in envs])
    # Nothing half-sent: the outbox keeps the batch and sends it again whole.
    assert _files(berth_home, "catalog") == []
    bus.close()
