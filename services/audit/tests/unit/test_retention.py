"""Retention prunes old records and the rest still verifies from the anchor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from berth.audit.config import AuditConfig
from berth.audit.models import AuditRecord, RetentionAnchor
from berth.audit.services.recorder import utcnow
from berth.audit.services.retention import prune
from berth.audit.services.verification import verify_chain
from berth.audit.worker import retention_tick

KEY = b"anchor-test-key"


@pytest.fixture
def aged(record: Callable[..., Any], sessions: sessionmaker[Session]) -> list[Any]:
    """Ten records; the first six recorded 40 days ago."""
    for i in range(1, 11):
        record("catalog.team.created", {"entity_id": i, "name": f"t{i}"})
    old = utcnow() - timedelta(days=40)
    with sessions() as s:
        s.execute(text("UPDATE audit_records SET recorded_at = :t WHERE id <= 6"),
                  {"t": old})
        s.commit()
    _rechain(sessions)
    with sessions() as s:
        return list(s.scalars(select(AuditRecord).order_by(AuditRecord.id)))


def _rechain(sessions: sessionmaker[Session]) -> None:
    """Re-hash the chain after back-dating rows, as if they had been written
    back then (the test's stand-in for a clock)."""
    from berth.audit.chain import record_hash
    from berth.audit.models import GENESIS_HASH, ChainHead

    with sessions() as s:
        anchor = s.scalars(select(RetentionAnchor)
                           .order_by(RetentionAnchor.seq.desc())).first()
        prev = anchor.hash if anchor is not None else GENESIS_HASH
        for rec in s.scalars(select(AuditRecord).order_by(AuditRecord.id)):
            rec.prev_hash = prev
            rec.hash = prev = record_hash(rec)
        head = s.get(ChainHead, 1)
        assert head is not None
        head.last_hash = prev
        s.commit()


def _ids(sessions: sessionmaker[Session]) -> list[int]:
    with sessions() as s:
        return list(s.scalars(select(AuditRecord.id).order_by(AuditRecord.id)))


def test_prune_removes_old_records_and_keeps_the_chain_verifiable(
        aged: list[Any], sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        assert prune(s, days=30, anchor_key=KEY) == 6
        s.commit()
    assert _ids(sessions) == [7, 8, 9, 10]
    with sessions() as s:
        report = verify_chain(s, KEY).to_dict()
    assert report["intact"] is True
    assert report["records"] == 4 and report["first_id"] == 7
    assert report["anchor"]["seq"] == 6
    assert report["anchor"]["hash"] == aged[5].hash


def test_new_records_after_pruning_still_chain(
        aged: list[Any], record: Callable[..., Any],
        sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        prune(s, days=30, anchor_key=KEY)
        s.commit()
    new = record("catalog.team.created", {"entity_id": 11, "name": "t11"})
    assert new.id == 11
    with sessions() as s:
        assert verify_chain(s, KEY).intact


def test_zero_days_keeps_everything(aged: list[Any],
                                    sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        assert prune(s, days=0, anchor_key=KEY) == 0
    assert len(_ids(sessions)) == 10


def test_nothing_old_enough_writes_no_anchor(aged: list[Any],
                                             sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        assert prune(s, days=60, anchor_key=KEY) == 0
        s.commit()
        assert s.scalar(select(func.count()).select_from(RetentionAnchor)) == 0


def test_forged_anchor_is_reported(aged: list[Any],
                                   sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        prune(s, days=30, anchor_key=KEY)
        s.commit()
    # Hiding more records needs a new anchor, and the MAC needs the key.
    with sessions() as s:
        s.execute(text("DELETE FROM audit_records WHERE id = 7"))
        s.execute(text("UPDATE audit_retention_anchors SET seq = 7, hash = :h"),
                  {"h": aged[6].hash})
        s.commit()
    with sessions() as s:
        report = verify_chain(s, KEY).to_dict()
    assert report["broken"] == {"id": 7, "reason": "anchor_invalid"}


def test_anchor_checked_with_the_wrong_key_fails(
        aged: list[Any], sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        prune(s, days=30, anchor_key=KEY)
        s.commit()
    with sessions() as s:
        assert verify_chain(s, b"another key").to_dict()["broken"]["reason"] == \
            "anchor_invalid"


def test_removed_anchor_is_caught(aged: list[Any],
                                  sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        prune(s, days=30, anchor_key=KEY)
        s.commit()
        s.execute(text("DELETE FROM audit_retention_anchors"))
        s.commit()
    with sessions() as s:
        assert verify_chain(s, KEY).to_dict()["broken"] == {
            "id": 7, "reason": "missing_records", "expected_id": 1}


def test_worker_tick_prunes_once_per_interval(
        aged: list[Any], config: AuditConfig, sessions: sessionmaker[Session],
        record: Callable[..., Any]) -> None:
    import dataclasses

    cfg = dataclasses.replace(config, retention_days=30, retention_interval=100.0)
    now = [1000.0]
    tick = retention_tick(sessions, cfg, KEY, clock=lambda: now[0])
    tick()
    assert _ids(sessions)[0] == 7
    with sessions() as s:
        s.execute(text("UPDATE audit_records SET recorded_at = :t WHERE id = 7"),
                  {"t": utcnow() - timedelta(days=40)})
        s.commit()
    _rechain(sessions)
    now[0] += 50
    tick()
    assert _ids(sessions)[0] == 7
    now[0] += 60
    tick()
    assert _ids(sessions)[0] == 8
    with sessions() as s:
        assert verify_chain(s, KEY).intact


def test_prune_in_chunks_leaves_a_verifiable_chain_after_each(
        aged: list[Any], sessions: sessionmaker[Session]) -> None:
    removed = []
    while True:
        with sessions() as s:
            n = prune(s, days=30, anchor_key=KEY, limit=4)
            s.commit()
        if not n:
            break
        removed.append(n)
        with sessions() as s:
            assert verify_chain(s, KEY).intact
    assert removed == [4, 2]
    assert _ids(sessions) == [7, 8, 9, 10]
    with sessions() as s:
        seqs = list(s.scalars(select(RetentionAnchor.seq)
                              .order_by(RetentionAnchor.seq)))
    assert seqs == [4, 6]
