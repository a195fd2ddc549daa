"""The bus end to end in one process: publish, consume, dedupe, dead-letter,
and the embedded transport's redelivery of an unacked message."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, String, Table, func, select
from sqlalchemy.orm import Session

from berth.common.bus import Bus, queue_name, queues_for
from berth.common.consumer import DEAD, DUPLICATE, PROCESSED, ConsumerWorker
from berth.common.db import make_base, make_engine, make_sessionmaker
from berth.common.events.base import Envelope, Event
from berth.common.outbox import Outbox, bus_tables

Base = make_base()
OUTBOX, PROCESSED_TABLE = bus_tables(Base.metadata)
SEEN = Table("seen", Base.metadata, Column("id", Integer, primary_key=True),
             Column("name", String(50)))


@dataclass(frozen=True)
class Pinged(Event):
    TYPE = "test.thing.pinged"
    VERSION = 1
    name: str


@pytest.fixture
def factory(database_url: str, tmp_path: Path) -> Any:
    # A consumer thread and the test share the database: an in-memory SQLite
    # database lives on one connection, so use a file.
    if database_url == "sqlite://":
        database_url = f"sqlite:///{tmp_path / 'bus.sqlite'}"
    engine = make_engine(database_url)
    Base.metadata.create_all(engine)
    yield make_sessionmaker(engine)
    Base.metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture
def bus(berth_home: Path, amqp_url: str) -> Any:
    b = Bus(amqp_url or None, berth_home, "test")
    yield b
    with b.connection() as conn:
        for consumer in ("audit",):
            for q in queues_for(consumer):
                q(conn.default_channel).purge()
    b.close()


def handler(session: Session, env: Envelope) -> dict[str, Any]:
    if env.data.get("name") == "poison":
        raise ValueError("cannot handle poison")
    session.execute(SEEN.insert().values(name=env.data["name"]))
    return {"ok": True}


def consume_until_seen(worker: ConsumerWorker, factory: Any, count: int,
                       tries: int = 300) -> None:
    """Run ``worker`` in a thread until ``count`` rows are seen (or time runs out)."""
    stop = threading.Event()
    t = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    t.start()
    try:
        for _ in range(tries):
            with factory() as s:
                if s.scalar(select(func.count()).select_from(SEEN)) >= count:
                    break
            stop.wait(0.05)
    finally:
        stop.set()
        t.join(5)


def test_outbox_event_is_published_after_commit_and_consumed_once(factory, bus):
    outbox = Outbox(OUTBOX, bus, "test")
    with factory() as s:
        env = outbox.add(s, Pinged(name="a"))
        s.commit()
    with factory() as s:  # published at once: the outbox row is gone
        assert s.scalar(select(func.count()).select_from(OUTBOX)) == 0
    worker = ConsumerWorker(bus=bus, name="audit", handler=handler, factory=factory,
                            processed=PROCESSED_TABLE)
    consume_until_seen(worker, factory, 1)
    assert worker.handle_body(env.to_json()) == DUPLICATE
    with factory() as s:
        assert s.scalars(select(SEEN.c.name)).all() == ["a"]


def test_rolled_back_transaction_publishes_nothing(factory, bus):
    outbox = Outbox(OUTBOX, bus, "test")
    with factory() as s:
        outbox.add(s, Pinged(name="never"))
        s.rollback()
    with factory() as s:
        outbox.add(s, Pinged(name="later"))
        s.commit()
    with bus.connection() as conn:
        main, _ = queues_for("audit")
        got = []
        while (m := main(conn.default_channel).get(no_ack=True)) is not None:
            got.append(Envelope.from_json(m.payload).data["name"])
    assert got == ["later"]


def test_poison_and_malformed_messages_go_to_dead_letter(factory, bus):
    worker = ConsumerWorker(bus=bus, name="audit", handler=handler, factory=factory,
                            processed=PROCESSED_TABLE)
    poison = Envelope.wrap(Pinged(name="poison"), producer="test")
    assert worker.handle_body(poison.to_json()) == DEAD
    assert worker.handle_body("{not json") == DEAD
    assert worker.handle_body(Envelope.wrap(Pinged(name="ok"), producer="t").to_json()) \
        == PROCESSED
    with bus.connection() as conn:
        _, dead = queues_for("audit")
        reasons = []
        while (m := dead(conn.default_channel).get(no_ack=True)) is not None:
            reasons.append(m.payload["reason"])
    assert len(reasons) == 2 and "poison" in reasons[0]


def test_relay_publishes_what_a_failed_publish_left(factory, berth_home, amqp_url):
    broken = Bus("amqp://guest:guest@127.0.0.1:1/", berth_home, "test")
    with factory() as s:
        Outbox(OUTBOX, broken, "test").add(s, Pinged(name="kept"))
        s.commit()  # publish fails, the row stays
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(OUTBOX)) == 1
    good = Bus(amqp_url or None, berth_home, "test")
    assert Outbox(OUTBOX, good, "test").relay(factory, older_than=0) == 1
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(OUTBOX)) == 0
    with good.connection() as conn:
        main, _ = queues_for("audit")
        m = main(conn.default_channel).get(no_ack=True)
        assert m is not None and Envelope.from_json(m.payload).data["name"] == "kept"
    good.close()


def test_queue_names_are_prefixed():
    assert queue_name("catalog") == "berth.catalog"


def test_bindings_declared_concurrently_are_never_read_half_written(
        berth_home: Path) -> None:
    import multiprocessing

    from berth.common.bus import EXCHANGE

    def declare(n: int) -> None:
        b = Bus(None, berth_home, "t")
        with b.connection() as conn:
            from kombu import Queue

            for i in range(20):
                Queue(f"q{n}-{i}", exchange=EXCHANGE, routing_key=f"k.{n}.{i}")(
                    conn.default_channel).declare()

    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=declare, args=(n,)) for n in range(4)]
    for p in procs:
        p.start()
    reader = Bus(None, berth_home, "t")
    with reader.connection() as conn:
        channel = conn.default_channel
        while any(p.is_alive() for p in procs):
            channel.get_table(EXCHANGE.name)  # raises on a half-written file
        for p in procs:
            p.join()
            assert p.exitcode == 0
        queues = {q.queue for q in channel.get_table(EXCHANGE.name)}
    assert {f"q{n}-{i}" for n in range(4) for i in range(20)} <= queues


def _pinged(name: str) -> Any:
    return Envelope.wrap(Pinged(name=name), producer="test").to_json()


def test_a_batch_commits_together_and_skips_duplicates(factory, bus):
    worker = ConsumerWorker(bus=bus, name="audit", handler=handler, factory=factory,
                            processed=PROCESSED_TABLE)
    first = _pinged("one")
    assert worker.handle_batch([first, _pinged("two"), first]) == [
        PROCESSED, PROCESSED, DUPLICATE]
    assert worker.handle_batch([first]) == [DUPLICATE]
    with factory() as s:
        assert sorted(s.scalars(select(SEEN.c.name))) == ["one", "two"]


def test_a_failing_message_splits_the_batch_without_losing_the_others(factory, bus):
    worker = ConsumerWorker(bus=bus, name="audit", handler=handler, factory=factory,
                            processed=PROCESSED_TABLE)
    bodies = [_pinged("a"), _pinged("poison"), "{not json", _pinged("b")]
    assert worker.handle_batch(bodies) == [PROCESSED, DEAD, DEAD, PROCESSED]
    with factory() as s:
        assert sorted(s.scalars(select(SEEN.c.name))) == ["a", "b"]
        assert s.scalar(select(func.count()).select_from(PROCESSED_TABLE)) == 2


def test_a_backlog_is_consumed_in_batches_exactly_once(factory, bus):
    outbox = Outbox(OUTBOX, bus, "test")
    with factory() as s:
        for i in range(40):
            outbox.add(s, Pinged(name=f"n{i}"))
        s.commit()
    worker = ConsumerWorker(bus=bus, name="audit", handler=handler, factory=factory,
                            processed=PROCESSED_TABLE, batch=8)
    sizes: list[int] = []
    real = worker.handle_batch

    def spy(bodies: list[Any]) -> list[str]:
        sizes.append(len(bodies))
        return real(bodies)

    worker.handle_batch = spy  # type: ignore[method-assign]
    consume_until_seen(worker, factory, 40, tries=400)
    with factory() as s:
        names = s.scalars(select(SEEN.c.name)).all()
    assert sorted(names) == sorted(f"n{i}" for i in range(40))
    assert sum(sizes) == 40 and max(sizes) > 1 and max(sizes) <= 8


def test_ping_notices_a_connection_the_broker_dropped(berth_home: Path,
                                                      amqp_url: str) -> None:
    """An idle connection the broker closed (a restart) still looks connected
    until it is used: health must not report such a broker as reachable."""
    if not amqp_url:
        pytest.skip("RabbitMQ only: the embedded bus keeps no connection")
    import shutil
    import subprocess
    import time

    from berth.common.bus import BusError
    from berth.common.testing import rabbitmq_vhost

    with rabbitmq_vhost() as url:
        bus = Bus(url, berth_home, "test")
        bus.ping()
        ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
        subprocess.run([ctl, "-q", "close_all_connections", "-p", url.rsplit("/", 1)[1],
                        "test"], check=True, capture_output=True)
        raised = False
        deadline = time.monotonic() + 10
        while not raised and time.monotonic() < deadline:
            try:
                bus.ping()
                time.sleep(0.2)
            except BusError:
                raised = True
        assert raised, "ping kept reporting a dropped connection as reachable"
        bus.ping()  # a fresh connection once the broker takes them again
        bus.close()


def test_a_batch_handler_gets_only_the_new_events_once(factory, bus):
    calls: list[list[str]] = []

    def batch_handler(session: Session, envs: list[Envelope]) -> list[dict[str, Any]]:
        calls.append([env.data["name"] for env in envs])
        for env in envs:
            session.execute(SEEN.insert().values(name=env.data["name"]))
        return [{"n": env.data["name"]} for env in envs]

    worker = ConsumerWorker(bus=bus, name="audit", handler=handler, factory=factory,
                            processed=PROCESSED_TABLE, batch_handler=batch_handler)
    one, two = _pinged("one"), _pinged("two")
    assert worker.handle_batch([one, two, one]) == [PROCESSED, PROCESSED, DUPLICATE]
    assert worker.handle_batch([two, _pinged("three")]) == [DUPLICATE, PROCESSED]
    assert calls == [["one", "two"], ["three"]]
    with factory() as s:
        summaries = sorted(s.scalars(select(PROCESSED_TABLE.c.summary)),
                           key=lambda d: d["n"])
    assert summaries == [{"n": "one"}, {"n": "three"}, {"n": "two"}]


def test_a_batch_handler_that_fails_falls_back_to_one_event_at_a_time(factory, bus):
    def batch_handler(session: Session, envs: list[Envelope]) -> list[dict[str, Any]]:
        for env in envs:
            handler(session, env)  # the poison one raises: nothing of it stays
        return [{"ok": True}] * len(envs)

    worker = ConsumerWorker(bus=bus, name="audit", handler=handler, factory=factory,
                            processed=PROCESSED_TABLE, batch_handler=batch_handler)
    assert worker.handle_batch([_pinged("a"), _pinged("poison"), _pinged("b")]) == [
        PROCESSED, DEAD, PROCESSED]
    with factory() as s:
        assert sorted(s.scalars(select(SEEN.c.name))) == ["a", "b"]


def test_a_batch_handler_must_answer_for_every_event(factory, bus):
    def short(session: Session, envs: list[Envelope]) -> list[dict[str, Any]]:
        return [{}]  # one summary for several events: a bug, not a silent loss

    worker = ConsumerWorker(bus=bus, name="audit", handler=handler, factory=factory,
                            processed=PROCESSED_TABLE, batch_handler=short)
    assert worker.handle_batch([_pinged("a"), _pinged("b")]) == [PROCESSED, PROCESSED]
    with factory() as s:  # each event went through the per-event handler instead
        assert sorted(s.scalars(select(SEEN.c.name))) == ["a", "b"]


def test_a_batch_looks_up_its_ids_in_chunks(factory, bus, monkeypatch):
    from berth.common import consumer

    monkeypatch.setattr(consumer, "LOOKUP_CHUNK", 3)
    worker = ConsumerWorker(bus=bus, name="audit", handler=handler, factory=factory,
                            processed=PROCESSED_TABLE)
    bodies = [_pinged(f"n{i}") for i in range(10)]
    assert worker.handle_batch(bodies[:4]) == [PROCESSED] * 4
    assert worker.handle_batch(bodies) == [DUPLICATE] * 4 + [PROCESSED] * 6
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(SEEN)) == 10


def test_ids_of_another_consumer_do_not_count_as_seen(factory, bus):
    other = ConsumerWorker(bus=bus, name="catalog", handler=handler, factory=factory,
                           processed=PROCESSED_TABLE)
    worker = ConsumerWorker(bus=bus, name="audit", handler=handler, factory=factory,
                            processed=PROCESSED_TABLE)
    bodies = [_pinged("a"), _pinged("b")]
    assert other.handle_batch(bodies) == [PROCESSED, PROCESSED]
    assert worker.handle_batch(bodies) == [PROCESSED, PROCESSED]
    assert worker.handle_batch(bodies) == [DUPLICATE, DUPLICATE]


def test_a_batch_is_one_look_up_and_one_insert_of_processed_ids(factory, bus):
    from sqlalchemy import event

    statements: list[str] = []

    def seen(_conn, _cursor, statement, _params, _ctx, _many):
        if "processed_events" in statement:
            statements.append(statement.lstrip().split()[0].upper())

    worker = ConsumerWorker(bus=bus, name="audit", handler=handler, factory=factory,
                            processed=PROCESSED_TABLE)
    engine = factory.kw["bind"]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert worker.handle_batch([_pinged(f"n{i}") for i in range(12)]) == [
            PROCESSED] * 12
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert statements == ["SELECT", "INSERT"]
