"""Appending a batch: one lock, one look-up, one insert; the same chain, the
same once-per-event-id rule as appending one event at a time."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from berth.audit.chain import fields_hash, record_hash
from berth.audit.consumers import make_batch_handler
from berth.audit.models import GENESIS_HASH, PROCESSED, AuditRecord, ChainHead
from berth.audit.services import recorder
from berth.audit.services.recorder import append, append_many, append_rows
from berth.audit.services.verification import verify_chain
from berth.audit.worker import make_worker
from berth.common.bus import Bus
from berth.common.consumer import DEAD, DUPLICATE
from berth.common.consumer import PROCESSED as OUTCOME_PROCESSED

KEY = b"anchor-test-key"


def _teams(make_envelope: Callable[..., Any], count: int, start: int = 0,
           **kw: Any) -> list[Any]:
    return [make_envelope("catalog.team.created",
                          {"entity_id": i, "name": f"team{i}", "details": {"n": i}},
                          **kw)
            for i in range(start, start + count)]


def _stored(sessions: sessionmaker[Session]) -> list[AuditRecord]:
    with sessions() as s:
        return list(s.scalars(select(AuditRecord).order_by(AuditRecord.id)))


def test_a_batch_chains_in_order_from_the_head(
        sessions: sessionmaker[Session], record: Callable[..., Any],
        make_envelope: Callable[..., Any]) -> None:
    first = record("catalog.team.created", {"entity_id": 0, "name": "t0"})
    envelopes = _teams(make_envelope, 5, start=1)
    with sessions() as s:
        records = append_many(s, envelopes)
        s.commit()
    assert [r.id for r in records] == [2, 3, 4, 5, 6]
    assert [r.event_id for r in records] == [e.id for e in envelopes]
    assert records[0].prev_hash == first.hash
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))
    stored = _stored(sessions)
    assert [(r.id, r.hash, r.prev_hash) for r in stored[1:]] == [
        (r.id, r.hash, r.prev_hash) for r in records]
    assert all(record_hash(r) == r.hash for r in stored)
    with sessions() as s:
        head = s.get(ChainHead, 1)
        assert head is not None
        assert (head.last_seq, head.last_hash) == (6, records[-1].hash)
        assert verify_chain(s, KEY).to_dict()["records"] == 6
        assert verify_chain(s, KEY).intact


def test_a_batch_and_single_appends_mix_in_one_transaction(
        sessions: sessionmaker[Session], make_envelope: Callable[..., Any]) -> None:
    envelopes = _teams(make_envelope, 6)
    with sessions() as s:
        one = append(s, envelopes[0])
        many = append_many(s, envelopes[1:4])
        two = append(s, envelopes[4])
        more = append_many(s, envelopes[5:])
        s.commit()
    assert one is not None and two is not None
    assert [r.id for r in [one, *many, two, *more]] == [1, 2, 3, 4, 5, 6]
    with sessions() as s:
        assert verify_chain(s, KEY).intact


def test_recorded_and_repeated_ids_are_skipped(
        sessions: sessionmaker[Session], record: Callable[..., Any],
        make_envelope: Callable[..., Any]) -> None:
    record("catalog.team.created", {"entity_id": 1, "name": "a"}, event_id="evt-1")
    old = make_envelope("catalog.team.created", {"entity_id": 1, "name": "a"},
                        event_id="evt-1")
    new = make_envelope("catalog.team.created", {"entity_id": 2, "name": "b"},
                        event_id="evt-2")
    with sessions() as s:
        records = append_many(s, [old, new, new, old])
        s.commit()
    assert records[0] is None and records[2] is None and records[3] is None
    assert records[1] is not None and records[1].id == 2
    assert [r.event_id for r in _stored(sessions)] == ["evt-1", "evt-2"]


def test_a_batch_of_known_ids_leaves_the_head_alone(
        sessions: sessionmaker[Session], make_envelope: Callable[..., Any]) -> None:
    envelopes = _teams(make_envelope, 3)
    with sessions() as s:
        append_many(s, envelopes)
        s.commit()
    with sessions() as s:
        assert append_many(s, envelopes) == [None, None, None]
        assert append_many(s, []) == []
        s.commit()
    with sessions() as s:
        head = s.get(ChainHead, 1)
        assert head is not None and head.last_seq == 3


def test_more_ids_than_one_look_up_holds(
        sessions: sessionmaker[Session], make_envelope: Callable[..., Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recorder, "LOOKUP_CHUNK", 7)
    envelopes = _teams(make_envelope, 30)
    with sessions() as s:
        append_many(s, envelopes[:17])
        s.commit()
    with sessions() as s:
        records = append_many(s, envelopes)
        s.commit()
    assert records[:17] == [None] * 17
    assert [r.id for r in records[17:] if r is not None] == list(range(18, 31))


def test_a_batch_is_one_insert(sessions: sessionmaker[Session],
                               make_envelope: Callable[..., Any]) -> None:
    inserts: list[int] = []

    def count(_conn: Any, _cursor: Any, statement: str, params: Any, _ctx: Any,
              executemany: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_RECORDS"):
            inserts.append(len(params) if executemany else 1)

    with sessions() as s:
        engine = s.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            append_many(s, _teams(make_envelope, 40))
            s.commit()
        finally:
            event.remove(engine, "before_cursor_execute", count)
    # One statement (a multi-row VALUES) or one executemany, never one per row.
    assert len(inserts) <= 1 or sum(inserts) == 40 and len(inserts) == 1
    assert len(_stored(sessions)) == 40


def test_in_memory_hash_matches_the_row_read_back(
        sessions: sessionmaker[Session], make_envelope: Callable[..., Any]) -> None:
    odd = make_envelope("catalog.namespace.created",
                        {"entity_id": 1, "name": "ns" + "x" * 400,
                         "details": {"t": (1, 2), "f": 1.5, "u": "ünï", "n": None,
                                     "bad": float("nan"), "s": "a\ud800b"}},
                        actor={"id": "42", "name": "alice", "address": "10.0.0.1"})
    with sessions() as s:
        (made,) = append_many(s, [odd])
        s.commit()
    assert made is not None
    (stored,) = _stored(sessions)
    assert record_hash(stored) == stored.hash == made.hash
    assert fields_hash({c.key: getattr(stored, c.key) for c in
                        AuditRecord.__table__.columns}) == stored.hash
    assert stored.prev_hash == GENESIS_HASH and stored.actor_id == 42


def test_a_bad_event_fails_the_whole_batch(
        sessions: sessionmaker[Session], make_envelope: Callable[..., Any]) -> None:
    good = _teams(make_envelope, 2)
    bad = dataclasses.replace(make_envelope("catalog.team.created",
                                            {"entity_id": 9, "name": "x"}),
                              occurred_at="not a time")
    with sessions() as s, pytest.raises(Exception, match="occurred_at"):
        append_many(s, [good[0], bad, good[1]])
    assert _stored(sessions) == []


def test_the_worker_appends_a_batch_and_dead_letters_only_the_bad_event(
        sessions: sessionmaker[Session], berth_home: Any,
        make_envelope: Callable[..., Any]) -> None:
    worker = make_worker(Bus(None, berth_home, "audit"), sessions)
    good = _teams(make_envelope, 3)
    bad = dataclasses.replace(make_envelope("catalog.team.created",
                                            {"entity_id": 9, "name": "x"}),
                              occurred_at="not a time")
    bodies = [e.to_json() for e in (good[0], bad, good[1], good[0], good[2])]
    assert worker.handle_batch(bodies) == [
        OUTCOME_PROCESSED, DEAD, OUTCOME_PROCESSED, DUPLICATE, OUTCOME_PROCESSED]
    assert [r.event_id for r in _stored(sessions)] == [good[0].id, good[1].id,
                                                       good[2].id]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(PROCESSED)) == 3
        assert verify_chain(s, KEY).intact


def test_the_worker_records_a_clean_batch_with_summaries(
        sessions: sessionmaker[Session], berth_home: Any,
        make_envelope: Callable[..., Any]) -> None:
    worker = make_worker(Bus(None, berth_home, "audit"), sessions)
    envelopes = _teams(make_envelope, 4)
    bodies = [e.to_json() for e in envelopes]
    assert worker.handle_batch(bodies + bodies[:1]) == [OUTCOME_PROCESSED] * 4 + [
        DUPLICATE]
    with sessions() as s:
        summaries = {event_id: summary for event_id, summary in s.execute(
            select(PROCESSED.c.event_id, PROCESSED.c.summary))}
    assert summaries == {e.id: {"record_id": n, "action": "team.create"}
                         for n, e in enumerate(envelopes, start=1)}
    assert worker.handle_batch(bodies) == [DUPLICATE] * 4


def test_forwarding_waits_for_the_commit(
        sessions: sessionmaker[Session], make_envelope: Callable[..., Any]) -> None:
    sent: list[int] = []

    class Forwarder:
        def send(self, rec: AuditRecord) -> bool:
            sent.append(rec.id)
            return True

    handle = make_batch_handler(Forwarder())  # type: ignore[arg-type]
    with sessions() as s:
        summaries = handle(s, _teams(make_envelope, 3))
        assert sent == []
        s.rollback()
    assert sent == [] and summaries[0] == {"record_id": 1, "action": "team.create"}
    with sessions() as s:
        handle(s, _teams(make_envelope, 3, start=10))
        s.commit()
    assert sent == [1, 2, 3]


def test_rows_appended_are_the_rows_stored(
        sessions: sessionmaker[Session], make_envelope: Callable[..., Any]) -> None:
    envelopes = _teams(make_envelope, 3)
    with sessions() as s:
        rows = append_rows(s, [*envelopes, envelopes[0]])
        s.commit()
    assert rows[3] is None
    stored = _stored(sessions)
    assert [{c.key: getattr(r, c.key) for c in AuditRecord.__table__.columns}
            for r in stored] == rows[:3]
