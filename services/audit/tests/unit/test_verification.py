"""The chain proves itself: any change, removal or reordering is named."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from berth.audit.services.verification import verify_chain
from berth.common.testing import backend

KEY = b"anchor-test-key"
# Every test runs through the walk in this process and through the worker
# processes (forced with a chain of any length, in ranges of a record or two).
WALKS: dict[str, dict[str, Any]] = {
    "sequential": {}, "parallel": {"processes": 2, "parallel_from": 1}}


@pytest.fixture(params=sorted(WALKS))
def walk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
         ) -> dict[str, Any]:
    if request.param == "parallel":
        # Workers forked from one preloaded server start in milliseconds, not
        # the second a spawned interpreter takes (spawn: test_parallel_verify).
        from berth.audit.services import parallel_verify

        multiprocessing.get_context("forkserver").set_forkserver_preload(
            [parallel_verify.__name__])
        monkeypatch.setattr(parallel_verify, "START_METHOD", "forkserver")
    return WALKS[request.param]


@pytest.fixture
def database_url(request: pytest.FixtureRequest, walk: dict[str, Any],
                 tmp_path: Path) -> str:
    """Worker processes cannot see SQLite in memory: a file for them."""
    if backend() == "mysql":
        url: str = request.getfixturevalue("shared_mysql_url")
        return url
    return f"sqlite:///{tmp_path / 'audit.sqlite'}" if "processes" in walk else "sqlite://"


@pytest.fixture
def chain(record: Callable[..., Any]) -> list[Any]:
    return [record("catalog.team.created", {"entity_id": i, "name": f"team{i}",
                                            "details": {"n": i}})
            for i in range(1, 8)]


def _verify(sessions: sessionmaker[Session], walk: dict[str, Any], batch: int = 3
            ) -> dict[str, Any]:
    with sessions() as s:
        return verify_chain(s, KEY, batch=batch, **walk).to_dict()


def _sql(sessions: sessionmaker[Session], *statements: str) -> None:
    with sessions() as s:
        for stmt in statements:
            s.execute(text(stmt))
        s.commit()


def test_empty_chain_is_intact(sessions: sessionmaker[Session],
                               walk: dict[str, Any]) -> None:
    assert _verify(sessions, walk) == {"intact": True, "records": 0,
                                       "first_id": None, "last_id": None,
                                       "anchor": None}


def test_untouched_chain_is_intact_across_batches(
        chain: list[Any], sessions: sessionmaker[Session],
        walk: dict[str, Any]) -> None:
    report = _verify(sessions, walk, batch=3)
    assert report["intact"] is True
    assert (report["records"], report["first_id"], report["last_id"]) == (7, 1, 7)


def test_modified_details_name_the_record(chain: list[Any],
                                          sessions: sessionmaker[Session],
                                          walk: dict[str, Any]) -> None:
    _sql(sessions, """UPDATE audit_records SET details = '{"n": 99}' WHERE id = 4""")
    report = _verify(sessions, walk)
    assert report["intact"] is False
    assert report["broken"] == {"id": 4, "reason": "hash_mismatch"}
    assert report["records"] == 3


def test_modified_actor_with_recomputed_hash_breaks_the_next_link(
        chain: list[Any], sessions: sessionmaker[Session],
        walk: dict[str, Any]) -> None:
    # A forger who also rewrites the row's hash still breaks the next record.
    _sql(sessions, "UPDATE audit_records SET actor_name = 'eve' WHERE id = 5")
    with sessions() as s:
        from berth.audit.chain import record_hash
        from berth.audit.models import AuditRecord

        row = s.get(AuditRecord, 5)
        assert row is not None
        row.hash = record_hash(row)
        s.commit()
    report = _verify(sessions, walk)
    assert report["broken"] == {"id": 6, "reason": "prev_hash_mismatch"}


def test_deleted_row_names_the_gap(chain: list[Any],
                                   sessions: sessionmaker[Session],
                                   walk: dict[str, Any]) -> None:
    _sql(sessions, "DELETE FROM audit_records WHERE id = 3")
    report = _verify(sessions, walk)
    assert report["broken"] == {"id": 4, "reason": "missing_records",
                                "expected_id": 3}


def test_deleted_newest_rows_are_caught_by_the_head(
        chain: list[Any], sessions: sessionmaker[Session],
        walk: dict[str, Any]) -> None:
    _sql(sessions, "DELETE FROM audit_records WHERE id >= 6")
    report = _verify(sessions, walk)
    assert report["intact"] is False
    assert report["broken"]["id"] == 6
    assert report["broken"]["reason"] == "missing_records"


def test_reordered_rows_name_the_first_moved(chain: list[Any],
                                             sessions: sessionmaker[Session],
                                             walk: dict[str, Any]) -> None:
    _sql(sessions,
         "UPDATE audit_records SET id = 1000 WHERE id = 2",
         "UPDATE audit_records SET id = 2 WHERE id = 3",
         "UPDATE audit_records SET id = 3 WHERE id = 1000")
    report = _verify(sessions, walk)
    assert report["broken"]["id"] == 2
    assert report["broken"]["reason"] in {"prev_hash_mismatch", "hash_mismatch"}


def test_deleted_first_row_is_caught(chain: list[Any],
                                     sessions: sessionmaker[Session],
                                     walk: dict[str, Any]) -> None:
    _sql(sessions, "DELETE FROM audit_records WHERE id = 1")
    assert _verify(sessions, walk)["broken"] == {
        "id": 2, "reason": "missing_records", "expected_id": 1}


def test_row_slipped_in_beyond_the_head_is_reported(
        chain: list[Any], sessions: sessionmaker[Session],
        walk: dict[str, Any]) -> None:
    from berth.audit.chain import record_hash
    from berth.audit.models import AuditRecord

    with sessions() as s:
        last = s.get(AuditRecord, 7)
        assert last is not None
        forged = AuditRecord(**{c.key: getattr(last, c.key)
                                for c in AuditRecord.__table__.columns})
        forged.id, forged.event_id, forged.prev_hash = 8, "forged", last.hash
        forged.actor_name = "eve"
        forged.hash = record_hash(forged)
        s.expunge(last)
        s.add(forged)
        s.commit()
    assert _verify(sessions, walk)["broken"] == {"id": 8,
                                                 "reason": "unchained_record"}



@pytest.mark.parametrize("value", [
    "2026-11-29T12:00:00.000000", "2026-01-02T03:04:05.123456", "0999-12-31T23:59:59.5",
    "0001-01-01T00:00:00", "9999-12-31T23:59:59.999999"])
def test_timestamps_keep_the_one_hashed_form(value: str) -> None:
    from datetime import datetime

    from berth.audit.chain import timestamp

    when = datetime.fromisoformat(value)
    # The form every stored hash was computed with.
    assert timestamp(when) == when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_a_long_chain_verifies_across_batches(record: Callable[..., Any],
                                              sessions: sessionmaker[Session],
                                              walk: dict[str, Any]) -> None:
    for i in range(23):
        record("catalog.team.created", {"entity_id": i, "name": f"t{i}"})
    for batch in (1, 5, 23, 5000):
        report = _verify(sessions, walk, batch=batch)
        assert report["intact"] and report["records"] == 23
        assert (report["first_id"], report["last_id"]) == (1, 23)


def test_awkward_values_verify_and_a_change_to_them_is_caught(
        record: Callable[..., Any], sessions: sessionmaker[Session],
        walk: dict[str, Any]) -> None:
    from datetime import datetime

    # Separators of the packed MySQL read (":" and "~"), characters beyond the
    # BMP, NULLs, and a year MySQL pads where the hashed form does not.
    rec = record("catalog.team.created",
                 {"entity_id": 1, "name": "a:b~c 😀", "details": {"k:~": "ü😀:", "n": None}},
                 actor={"id": None, "name": "~3:x", "address": None},
                 occurred_at=datetime(999, 5, 6, 7, 8, 9, 10))
    record("catalog.team.created", {"entity_id": 2, "name": "~"})
    assert _verify(sessions, walk)["intact"]
    assert _verify(sessions, walk)["records"] == 2
    _sql(sessions, f"UPDATE audit_records SET target_name = 'a:b~c 😁' WHERE id = {rec.id}")
    report = _verify(sessions, walk)
    assert not report["intact"]
    assert report["broken"] == {"id": rec.id, "reason": "hash_mismatch"}


def test_the_packed_row_reads_back_every_value() -> None:
    from berth.audit.chain import HASHED_FIELDS
    from berth.audit.services.verification import _unpack

    values: dict[str, Any] = {name: None for name in HASHED_FIELDS}
    values.update(id=12, event_id="e:1", event_type="t", action="a",
                  occurred_at="2026-01-02T03:04:05.000006Z",
                  recorded_at="0999-01-02T03:04:05.000006Z", actor_id=7,
                  actor_name="~😀", details='{"x": [1, "~:"]}', producer="p",
                  prev_hash="0" * 64)
    texts = [None if values[n] is None else str(values[n]) for n in HASHED_FIELDS]
    packed = "".join("~" if t is None else f"{len(t)}:{t}" for t in [*texts, "h" * 64])
    read = _unpack([packed])
    got = dict(zip(HASHED_FIELDS, read, strict=False))
    assert read[-1] == "h" * 64
    assert got["id"] == 12 and got["actor_id"] == 7 and got["target_id"] is None
    assert got["details"] == {"x": [1, "~:"]} and got["actor_name"] == "~😀"
    assert got["recorded_at"] == "999-01-02T03:04:05.000006Z"
    assert got["occurred_at"] == "2026-01-02T03:04:05.000006Z"
