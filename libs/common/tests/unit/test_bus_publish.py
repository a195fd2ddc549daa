"""The publishing side of the bus: envelopes already serialised (an outbox
row's body) go out unchanged, routed by their type, on either transport."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from berth.common.bus import Bus, queues_for
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
