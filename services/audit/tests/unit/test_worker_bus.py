"""The worker on the real bus (embedded, or RabbitMQ on the mysql backend):
published events become records, once each, in a chain that verifies."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from berth.audit.models import AuditRecord
from berth.audit.services.verification import verify_chain
from berth.audit.worker import make_worker
from berth.common.bus import Bus, queues_for
from berth.common.db import make_engine, make_sessionmaker
from berth.common.testing import backend

KEY = b"anchor-test-key"


@pytest.fixture
def worker_sessions(tmp_path: Path, database_url: str,
                    runtime: Any) -> Iterator[sessionmaker[Session]]:
    # The worker runs in a thread: SQLite needs a file, not the shared in-memory
    # connection; MariaDB uses the test database ``runtime`` migrated and emptied.
    if backend() == "sqlite":
        from berth.audit.schema import upgrade_engine

        engine = make_engine(f"sqlite:///{tmp_path / 'audit.sqlite'}")
        upgrade_engine(engine)
    else:
        engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def bus(berth_home: Path, amqp_url: str) -> Iterator[Bus]:
    b = Bus(amqp_url or None, berth_home, "catalog")
    with b.connection() as conn:
        b.declare(conn)
        for q in queues_for("audit"):
            q(conn.default_channel).purge()
    yield b
    b.close()


def _wait_for(count: Callable[[], int], expected: int, timeout: float = 20.0) -> int:
    deadline = time.monotonic() + timeout
    seen = count()
    while seen < expected and time.monotonic() < deadline:
        time.sleep(0.1)
        seen = count()
    return seen


def test_published_events_are_recorded_once(
        bus: Bus, worker_sessions: sessionmaker[Session],
        make_envelope: Callable[..., Any]) -> None:
    first = make_envelope("catalog.namespace.visibility_changed",
                          {"entity_id": 1, "name": "qa",
                           "details": {"visibility": "public"}},
                          actor={"id": 2, "name": "alice", "address": None})
    events = [first,
              make_envelope("identity.login.failed",
                            {"username": "mallory", "reason": "bad_credentials"},
                            producer="token"),
              make_envelope("registry.manifest.pushed",
                            {"registry": "r", "repository": "qa/app",
                             "digest": "sha256:1", "tag": "v1", "actor": "alice"},
                            producer="syncer")]
    bus.publish(events)
    bus.publish([first])   # a redelivery / double publish

    stop = threading.Event()
    worker = make_worker(Bus(bus.amqp_url, bus.home, "audit"), worker_sessions)
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        def count() -> int:
            with worker_sessions() as s:
                return int(s.scalar(select(func.count()).select_from(AuditRecord))
                           or 0)

        assert _wait_for(count, 3) == 3
        time.sleep(0.5)   # give the duplicate its chance to (wrongly) land
        assert count() == 3
        bus.publish([make_envelope("catalog.team.member_added",
                                   {"entity_id": 5, "name": "devs",
                                    "details": {"user": "bob"}})])
        assert _wait_for(count, 4) == 4
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    with worker_sessions() as s:
        actions = list(s.scalars(select(AuditRecord.action).order_by(AuditRecord.id)))
        assert sorted(actions[:3]) == ["login.failed", "namespace.change_visibility",
                                       "repository.push"]
        assert actions[3] == "team.add_member"
        assert verify_chain(s, KEY).intact
