"""Appending to the chain: one record per event id, fields as the envelope says."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from berth.audit.chain import record_hash
from berth.audit.consumers import record_event
from berth.audit.models import GENESIS_HASH, PROCESSED, AuditRecord, ChainHead
from berth.audit.worker import make_worker
from berth.common.bus import Bus
from berth.common.consumer import DUPLICATE
from berth.common.consumer import PROCESSED as OUTCOME_PROCESSED


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(AuditRecord)) or 0)


def test_first_record_starts_at_genesis(record: Callable[..., Any]) -> None:
    rec = record("catalog.team.created", {"entity_id": 1, "name": "qa"},
                 actor={"id": 2, "name": "alice", "address": "10.1.1.1"},
                 correlation_id="corr-1")
    assert rec.id == 1
    assert rec.prev_hash == GENESIS_HASH
    assert rec.hash == record_hash(rec)
    assert (rec.actor_id, rec.actor_name, rec.actor_address) == (2, "alice",
                                                                 "10.1.1.1")
    assert rec.action == "team.create" and rec.correlation_id == "corr-1"


def test_records_chain_to_their_predecessor(record: Callable[..., Any],
                                            sessions: sessionmaker[Session]) -> None:
    first = record("catalog.team.created", {"entity_id": 1, "name": "a"})
    second = record("catalog.team.created", {"entity_id": 2, "name": "b"})
    assert second.id == first.id + 1
    assert second.prev_hash == first.hash
    with sessions() as s:
        head = s.get(ChainHead, 1)
        assert head is not None
        assert (head.last_seq, head.last_hash) == (second.id, second.hash)


def test_stored_row_hashes_like_the_inserted_one(record: Callable[..., Any],
                                                 sessions: sessionmaker[Session]
                                                 ) -> None:
    rec = record("catalog.namespace.created",
                 {"entity_id": 1, "name": "ns", "details": {"t": (1, 2), "f": 1.5,
                                                           "u": "ünï"}})
    with sessions() as s:
        stored = s.get(AuditRecord, rec.id)
        assert stored is not None
        assert record_hash(stored) == stored.hash == rec.hash


def test_same_event_twice_is_recorded_once(record: Callable[..., Any],
                                           sessions: sessionmaker[Session]) -> None:
    assert record("catalog.team.created", {"entity_id": 1, "name": "a"},
                  event_id="evt-1") is not None
    assert record("catalog.team.created", {"entity_id": 1, "name": "a"},
                  event_id="evt-1") is None
    assert _count(sessions) == 1


def test_redelivered_envelope_through_the_consumer_adds_nothing(
        sessions: sessionmaker[Session], berth_home: Any,
        make_envelope: Callable[..., Any]) -> None:
    worker = make_worker(Bus(None, berth_home, "audit"), sessions)
    body = make_envelope("identity.login.failed",
                    {"username": "mallory", "reason": "bad_credentials"}).to_json()
    assert worker.handle_body(body) == OUTCOME_PROCESSED
    assert worker.handle_body(body) == DUPLICATE
    assert _count(sessions) == 1
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(PROCESSED)) == 1


def test_handler_is_idempotent_without_the_processed_table(
        sessions: sessionmaker[Session], make_envelope: Callable[..., Any]) -> None:
    env = make_envelope("identity.user.created", {"user_id": 1, "username": "a"})
    with sessions() as s:
        assert record_event(s, env)["record_id"] == 1
        s.commit()
    with sessions() as s:
        assert record_event(s, env) == {"duplicate": True}
    assert _count(sessions) == 1


def test_system_actor_takes_the_registry_user(record: Callable[..., Any]) -> None:
    rec = record("registry.manifest.pushed",
                 {"registry": "r", "repository": "ns/app", "digest": "sha256:1",
                  "tag": "v1", "actor": "bob", "source_addr": "10.0.0.9"},
                 producer="syncer")
    assert (rec.actor_name, rec.actor_address, rec.action) == (
        "bob", "10.0.0.9", "repository.push")


def test_long_values_are_cut_to_fit(record: Callable[..., Any],
                                    sessions: sessionmaker[Session]) -> None:
    rec = record("catalog.team.created", {"entity_id": 1, "name": "x" * 400})
    with sessions() as s:
        stored = s.get(AuditRecord, rec.id)
        assert stored is not None and len(stored.target_name or "") == 255
        assert record_hash(stored) == stored.hash


def test_offset_times_are_stored_as_utc(record: Callable[..., Any]) -> None:
    from datetime import datetime, timedelta, timezone

    when = datetime(2026, 1, 2, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    rec = record("catalog.team.created", {"entity_id": 1, "name": "a"},
                 occurred_at=when)
    assert rec.occurred_at == datetime(2026, 1, 2, 10, 0, 0, 123456)


def test_non_finite_numbers_are_stored_as_text(record: Callable[..., Any],
                                               sessions: sessionmaker[Session]
                                               ) -> None:
    rec = record("billing.meter.read", {"value": float("nan"), "max": float("inf")})
    with sessions() as s:
        stored = s.get(AuditRecord, rec.id)
        assert stored is not None
        assert stored.details == {"value": "nan", "max": "inf"}
        assert record_hash(stored) == stored.hash


def test_lone_surrogates_are_replaced_not_refused(record: Callable[..., Any],
                                                  sessions: sessionmaker[Session]
                                                  ) -> None:
    rec = record("identity.login.failed",
                 {"username": "ev\ud800il", "reason": "bad_credentials",
                  "note": {"k\udfff": "v\ud800"}})
    with sessions() as s:
        stored = s.get(AuditRecord, rec.id)
        assert stored is not None
        assert stored.actor_name == "ev?il" and stored.target_name == "ev?il"
        assert stored.details["note"] == {"k?": "v?"}
        assert record_hash(stored) == stored.hash


def test_long_event_ids_stay_distinct(record: Callable[..., Any]) -> None:
    prefix = "x" * 64
    first = record("catalog.team.created", {"entity_id": 1, "name": "a"},
                   event_id=prefix + "-1")
    second = record("catalog.team.created", {"entity_id": 1, "name": "a"},
                    event_id=prefix + "-2")
    again = record("catalog.team.created", {"entity_id": 1, "name": "a"},
                   event_id=prefix + "-2")
    assert first is not None and second is not None and again is None
    assert first.event_id != second.event_id and len(second.event_id) == 64
