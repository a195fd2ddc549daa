"""What the embedded bus delivers after a consumer is killed with SIGKILL.

A consumer process takes a message, starts handling it, and is killed before
it commits or acks. A new consumer on the same BERTH_HOME gets the message
again (at-least-once), handles it once, and the processed-events table keeps
a redelivery from being applied twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from berth.common.bus import Bus
from berth.common.events.base import Envelope

CONSUMER = textwrap.dedent('''
    import sys, threading, time
    from pathlib import Path
    from sqlalchemy import Column, Integer, String, Table
    from berth.common.bus import Bus
    from berth.common.consumer import ConsumerWorker
    from berth.common.db import make_base, make_engine, make_sessionmaker
    from berth.common.outbox import bus_tables

    from berth.common.logging import configure_logging
    configure_logging("test", "WARNING")
    home, db, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    Base = make_base()
    _, processed = bus_tables(Base.metadata)
    done = Table("done", Base.metadata, Column("id", Integer, primary_key=True),
                 Column("event_id", String(64)))
    engine = make_engine(db)
    Base.metadata.create_all(engine)
    factory = make_sessionmaker(engine)

    def handler(session, env):
        if mode == "hang":
            print("HANDLING", flush=True)
            time.sleep(60)   # killed here, before commit and ack
        session.execute(done.insert().values(event_id=env.id))

    from berth.common.consumer import stop_on_signals
    stop = stop_on_signals()
    worker = ConsumerWorker(bus=Bus(None, home, "t"), name="audit", handler=handler,
                            factory=factory, processed=processed)
    timer = threading.Timer(float(sys.argv[4]), stop.set)
    timer.daemon = True
    timer.start()
    worker.run(stop)
''')


def _consumer(home: Path, db: str, mode: str, seconds: float) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", CONSUMER, str(home), db, mode,
                             str(seconds)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "BERTH_LOG_LEVEL": "WARNING"})


def _envelope(n: int) -> Envelope:
    return Envelope(id=f"evt-{n}", type="test.thing.happened", version=1,
                    occurred_at="2026-01-01T00:00:00Z", producer="test",
                    correlation_id=None, actor={"name": "system"}, data={"n": n})


def _done(db: str) -> list[str]:
    engine = create_engine(db)
    with engine.connect() as conn:
        rows = [r[0] for r in conn.execute(text("SELECT event_id FROM done"))]
    engine.dispose()
    return rows


def _until(db: str, expected: list[str], proc: subprocess.Popen[str]) -> list[str]:
    """Wait until the consumer applied ``expected`` (or 30 s), then stop it."""
    deadline = time.monotonic() + 30
    got: list[str] = []
    while time.monotonic() < deadline:
        try:
            got = sorted(_done(db))
        except Exception:  # noqa: BLE001 - table not created yet
            got = []
        if got == expected:
            break
        time.sleep(0.1)
    time.sleep(0.5)  # a duplicate would land now
    proc.terminate()
    proc.wait(30)
    return sorted(_done(db))


def test_message_in_flight_at_sigkill_is_redelivered_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    db = f"sqlite:///{tmp_path / 'consumer.sqlite'}"
    bus = Bus(None, home, "test")
    bus.declare()
    bus.publish([_envelope(1)])

    victim = _consumer(home, db, "hang", 60)
    assert victim.stdout is not None
    assert victim.stdout.readline().strip() == "HANDLING"
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(10)
    bus.publish([_envelope(2)])  # published while no consumer runs

    survivor = _consumer(home, db, "ok", 60)
    assert _until(db, ["evt-1", "evt-2"], survivor) == ["evt-1", "evt-2"]

    bus.publish([_envelope(1)])  # a duplicate delivery changes nothing
    again = _consumer(home, db, "ok", 60)
    deadline = time.monotonic() + 30
    while list((home / "bus" / "queue").glob("*.msg")) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    again.terminate()
    again.wait(30)
    assert sorted(_done(db)) == ["evt-1", "evt-2"]
    assert not list((home / "bus" / "inflight").iterdir())
    bus.close()


def test_a_backlog_taken_in_batches_survives_a_sigkill(tmp_path: Path) -> None:
    home = tmp_path / "home"
    db = f"sqlite:///{tmp_path / 'consumer.sqlite'}"
    bus = Bus(None, home, "test")
    bus.declare()
    bus.publish([_envelope(n) for n in range(40)])

    victim = _consumer(home, db, "hang", 60)  # takes a batch, hangs in it
    assert victim.stdout is not None
    assert victim.stdout.readline().strip() == "HANDLING"
    assert list((home / "bus" / "inflight").iterdir())  # a batch is in flight
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(10)

    survivor = _consumer(home, db, "ok", 60)
    expected = sorted(f"evt-{n}" for n in range(40))
    assert _until(db, expected, survivor) == expected
    assert not list((home / "bus" / "inflight").iterdir())
    assert not list((home / "bus" / "queue").glob("*.msg"))
    bus.close()
