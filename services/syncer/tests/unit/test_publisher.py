"""The reconcile's publisher: committed rows go out once and leave the outbox,
waiting batches share a bus transaction, nothing polls, a dead bus loses
nothing."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from berth.common.bus import Bus
from berth.common.events.registry import ManifestPushed
from berth.common.outbox import Outbox
from berth.syncer.models import OUTBOX
from berth.syncer.services.apply import Applier
from berth.syncer.services.observed import utcnow
from berth.syncer.services.publisher import Publisher
from syncer_testing import drain, outbox_events


@pytest.fixture
def bus(runtime: Any) -> Any:
    b = runtime.bus
    drain(b, "catalog")
    yield b
    drain(b, "catalog")


def commit_events(runtime: Any, tags: list[str], run_id: int = 1) -> list[dict[str, Any]]:
    """Write one ManifestPushed per tag to the outbox and commit; return the rows."""
    applier = Applier(runtime.sessions, OUTBOX, run_id, "registry.test:5000", True)
    events = [applier._envelope(ManifestPushed(
        registry="registry.test:5000", repository="team/app", digest=f"sha256:{i:064x}",
        tag=tag, media_type=None, size=None, origin="reconcile"),
        "team/app", tag, f"sha256:{i:064x}") for i, tag in enumerate(tags)]
    with runtime.sessions() as session:
        rows = applier.store(session, events, utcnow())
        session.commit()
    return rows


def test_committed_rows_are_published_once_in_order_and_leave_the_outbox(runtime,
                                                                          bus):
    publisher = Publisher(Outbox(OUTBOX, bus, "syncer"), runtime.sessions)
    publisher.start()
    first = commit_events(runtime, ["a", "b"])
    publisher.committed(first)
    second = commit_events(runtime, ["c"])
    publisher.committed(second)
    publisher.finish()
    got = [e for e in drain(bus, "catalog") if e["type"] == "registry.manifest.pushed"]
    assert [e["data"]["tag"] for e in got] == ["a", "b", "c"]
    assert [e["id"] for e in got] == [r["event_id"] for r in first + second]
    assert outbox_events(runtime) == []
    assert publisher.published == 3


def test_batches_waiting_behind_a_slow_bus_go_out_in_one_call(runtime, bus,
                                                              monkeypatch):
    publisher = Publisher(Outbox(OUTBOX, bus, "syncer"), runtime.sessions)
    assert publisher.bus is not None
    calls: list[int] = []
    busy, release = threading.Event(), threading.Event()
    real = publisher.bus.publish_raw

    def slow(messages: Any) -> None:
        batch = list(messages)
        calls.append(len(batch))
        busy.set()
        release.wait(10)
        real(batch)

    monkeypatch.setattr(publisher.bus, "publish_raw", slow)
    publisher.start()
    publisher.committed(commit_events(runtime, ["a"]))
    assert busy.wait(10)
    for tag in ("b", "c", "d"):  # committed while "a" is being published
        publisher.committed(commit_events(runtime, [tag]))
    release.set()
    publisher.finish()
    assert calls == [1, 3]
    assert outbox_events(runtime) == []


def test_nothing_touches_the_database_while_nothing_was_committed(runtime, bus):
    opened: list[int] = []

    def factory(*args: Any, **kwargs: Any) -> Any:
        opened.append(1)
        return runtime.sessions(*args, **kwargs)

    factory.begin = lambda: (opened.append(1), runtime.sessions.begin())[1]  # type: ignore[attr-defined]
    publisher = Publisher(Outbox(OUTBOX, bus, "syncer"), factory)  # type: ignore[arg-type]
    publisher.start()
    threading.Event().wait(0.5)  # was: a SELECT per worker ten times a second
    publisher.committed([])
    publisher.finish()
    assert opened == []


def test_a_bus_that_is_down_leaves_every_row_for_the_relay_and_never_blocks(
        runtime, tmp_path):
    down = Bus("amqp://guest:guest@127.0.0.1:9//", tmp_path, "syncer")
    publisher = Publisher(Outbox(OUTBOX, down, "syncer"), runtime.sessions, waiting=1)
    started = time.monotonic()
    publisher.start()
    rows = []
    for tag in ("a", "b", "c", "d", "e"):  # more batches than the queue holds
        batch = commit_events(runtime, [tag])
        rows += batch
        publisher.committed(batch)
    publisher.finish(timeout=30)
    assert time.monotonic() - started < 20  # one failed connection, then no waiting
    assert publisher.failed and publisher.published == 0
    assert [e["id"] for e in outbox_events(runtime)] == [r["event_id"] for r in rows]


def test_without_a_bus_rows_stay_in_the_outbox(runtime):
    publisher = Publisher(Outbox(OUTBOX, None, "syncer"), runtime.sessions)
    publisher.start()
    publisher.committed(commit_events(runtime, ["a"]))
    publisher.finish()
    assert len(outbox_events(runtime)) == 1


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_publisher_thread_that_dies_never_blocks_the_walk(runtime, bus, monkeypatch):
    from berth.syncer.services import publisher as module

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the log stream is closed")

    publisher = Publisher(Outbox(OUTBOX, bus, "syncer"), runtime.sessions, waiting=1)
    monkeypatch.setattr(publisher, "_publish", broken)
    monkeypatch.setattr(module.log, "warning", broken)  # dies while reporting it
    publisher.start()
    rows = []
    for tag in ("a", "b", "c", "d"):
        batch = commit_events(runtime, [tag])
        rows += batch
        publisher.committed(batch)
    publisher.finish(timeout=10)
    assert publisher.failed
    assert [e["id"] for e in outbox_events(runtime)] == [r["event_id"] for r in rows]
