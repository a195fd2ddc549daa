"""Concurrent writers (threads with their own sessions, as several worker
processes would be) keep one chain, one record per event id."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from berth.audit.models import AuditRecord
from berth.audit.schema import upgrade_engine
from berth.audit.services.recorder import append
from berth.audit.services.verification import verify_chain
from berth.common.db import make_engine, make_sessionmaker
from berth.common.testing import backend


@pytest.fixture
def shared_sessions(tmp_path: Path, database_url: str,
                    runtime: Any) -> Iterator[sessionmaker[Session]]:
    url = (f"sqlite:///{tmp_path / 'audit.sqlite'}" if backend() == "sqlite"
           else database_url)
    engine = make_engine(url)
    upgrade_engine(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def test_concurrent_appends_keep_one_chain(
        shared_sessions: sessionmaker[Session],
        make_envelope: Callable[..., Any]) -> None:
    envelopes = [make_envelope("catalog.team.created", {"entity_id": i, "name": f"t{i}"})
                 for i in range(40)]
    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        # Every writer sends every event, starting at a different place: each
        # event races against its own redeliveries.
        for k in range(len(envelopes)):
            env = envelopes[(k + offset) % len(envelopes)]
            for _attempt in range(20):
                try:
                    with shared_sessions() as session:
                        append(session, env)
                        session.commit()
                    break
                except (IntegrityError, OperationalError):
                    continue   # the consumer runner would retry the same way
            else:
                errors.append(RuntimeError(f"gave up on {env.id}"))

    threads = [threading.Thread(target=writer, args=(n * 10,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    with shared_sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditRecord)) == 40
        ids = list(s.scalars(select(AuditRecord.id).order_by(AuditRecord.id)))
        assert ids == list(range(1, 41))
        assert verify_chain(s, b"k").intact


def test_concurrent_batches_keep_one_chain(
        shared_sessions: sessionmaker[Session],
        make_envelope: Callable[..., Any]) -> None:
    from berth.audit.services.recorder import append_many

    envelopes = [make_envelope("catalog.team.created", {"entity_id": i, "name": f"t{i}"})
                 for i in range(60)]
    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        # Every writer sends every event in batches of 8, each starting at a
        # different place: batches overlap, and each races its redeliveries.
        rotated = envelopes[offset:] + envelopes[:offset]
        for start in range(0, len(rotated), 8):
            batch = rotated[start:start + 8]
            for _attempt in range(30):
                try:
                    with shared_sessions() as session:
                        append_many(session, batch)
                        session.commit()
                    break
                except (IntegrityError, OperationalError):
                    continue   # the consumer splits the batch and retries
            else:
                errors.append(RuntimeError(f"gave up on a batch at {start}"))

    threads = [threading.Thread(target=writer, args=(n * 13,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not errors
    with shared_sessions() as s:
        ids = list(s.scalars(select(AuditRecord.id).order_by(AuditRecord.id)))
        assert ids == list(range(1, 61))
        stored = set(s.scalars(select(AuditRecord.event_id)))
        assert stored == {e.id for e in envelopes}
        assert verify_chain(s, b"k").intact
