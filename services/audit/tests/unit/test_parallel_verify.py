"""Verification in worker processes gives the single walk's report, also where a
tampered record sits at the edge of the id range one worker checked."""

from __future__ import annotations

import dataclasses
import multiprocessing
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from berth.audit.chain import record_hash
from berth.audit.config import AuditConfig
from berth.audit.models import AuditRecord, RetentionAnchor
from berth.audit.schema import upgrade_engine
from berth.audit.services import parallel_verify, verification
from berth.audit.services.recorder import append, utcnow
from berth.audit.services.retention import prune
from berth.audit.services.verification import verify_chain
from berth.common.config import ConfigError, load
from berth.common.db import make_engine, make_sessionmaker
from berth.common.testing import backend

KEY = b"anchor-test-key"
PARALLEL: dict[str, Any] = {"processes": 2, "parallel_from": 1}
# 20 records in 2 processes × 4 ranges: ids 1-3, 4-6, 7-9, ..., 19-20.
RECORDS = 20


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database other processes can open: a SQLite file, or MariaDB."""
    if backend() == "mysql":
        url: str = request.getfixturevalue("shared_mysql_url")
        return url
    return f"sqlite:///{tmp_path / 'audit.sqlite'}"


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers forked from one preloaded server: milliseconds, not the second a
    spawned interpreter takes (one test below keeps the real spawn)."""
    multiprocessing.get_context("forkserver").set_forkserver_preload(
        [parallel_verify.__name__])
    monkeypatch.setattr(parallel_verify, "START_METHOD", "forkserver")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The arguments of every walk through worker processes."""
    seen: list[dict[str, Any]] = []
    real = parallel_verify.segments

    def spy(url: str, after: int, last_id: int, **kw: Any) -> Iterator[Any]:
        seen.append({"after": after, "last_id": last_id, **kw})
        return real(url, after, last_id, **kw)

    monkeypatch.setattr(parallel_verify, "segments", spy)
    return seen


@pytest.fixture
def chain(record: Callable[..., Any], forked: None) -> None:
    for i in range(1, RECORDS + 1):
        record("catalog.team.created", {"entity_id": i, "name": f"team{i}",
                                        "details": {"n": i}})


def _sql(sessions: sessionmaker[Session], *statements: str) -> None:
    with sessions() as s:
        for stmt in statements:
            s.execute(text(stmt))
        s.commit()


def _rehash(sessions: sessionmaker[Session], record_id: int, **changes: Any) -> None:
    """Change a record and give it the hash of its new content."""
    with sessions() as s:
        row = s.get(AuditRecord, record_id)
        assert row is not None
        for name, value in changes.items():
            setattr(row, name, value)
        row.hash = record_hash(row)
        s.commit()


def _both(sessions: sessionmaker[Session], calls: list[dict[str, Any]],
          batch: int = 2) -> dict[str, Any]:
    """The report of the worker processes, checked equal to the single walk's."""
    with sessions() as s:
        alone = verify_chain(s, KEY, batch=batch, processes=1).to_dict()
    assert not calls
    with sessions() as s:
        parallel = verify_chain(s, KEY, batch=batch, **PARALLEL).to_dict()
    assert calls, "the worker processes were not used"
    assert parallel == alone
    return parallel


@pytest.mark.parametrize(("after", "last_id", "count", "expected"), [
    (0, 20, 8, [(0, 3), (3, 6), (6, 9), (9, 12), (12, 15), (15, 18), (18, 20)]),
    (0, 7, 8, [(i, i + 1) for i in range(7)]),
    (6, 10, 2, [(6, 8), (8, 10)]),
    (5, 6, 4, [(5, 6)]),
    (0, 0, 4, []),
    (9, 3, 4, []),
])
def test_ranges_cover_every_id_once_in_order(
        after: int, last_id: int, count: int, expected: list[tuple[int, int]]) -> None:
    assert parallel_verify.ranges(after, last_id, count) == expected


def test_an_untouched_chain_is_intact_in_ranges(
        chain: None, sessions: sessionmaker[Session],
        calls: list[dict[str, Any]]) -> None:
    report = _both(sessions, calls)
    assert report == {"intact": True, "records": RECORDS, "first_id": 1,
                      "last_id": RECORDS, "anchor": None}
    assert calls == [{"after": 0, "last_id": RECORDS, "processes": 2, "batch": 2}]


SWAP = ("UPDATE audit_records SET id = 1000 WHERE id = 6",
        "UPDATE audit_records SET id = 6 WHERE id = 7",
        "UPDATE audit_records SET id = 7 WHERE id = 1000")


@pytest.mark.parametrize(("statements", "broken", "records"), [
    pytest.param(["UPDATE audit_records SET actor_name = 'eve' WHERE id = 7"],
                 {"id": 7, "reason": "hash_mismatch"}, 6, id="range's first changed"),
    pytest.param(["UPDATE audit_records SET actor_name = 'eve' WHERE id = 9"],
                 {"id": 9, "reason": "hash_mismatch"}, 8, id="range's last changed"),
    pytest.param(["DELETE FROM audit_records WHERE id = 7"],
                 {"id": 8, "reason": "missing_records", "expected_id": 7}, 6,
                 id="range's first removed"),
    pytest.param(["DELETE FROM audit_records WHERE id = 6"],
                 {"id": 7, "reason": "missing_records", "expected_id": 6}, 5,
                 id="range's last removed"),
    pytest.param(["DELETE FROM audit_records WHERE id BETWEEN 7 AND 9"],
                 {"id": 10, "reason": "missing_records", "expected_id": 7}, 6,
                 id="whole range removed"),
    pytest.param(["DELETE FROM audit_records WHERE id = 1"],
                 {"id": 2, "reason": "missing_records", "expected_id": 1}, 0,
                 id="first record removed"),
    pytest.param(["DELETE FROM audit_records WHERE id >= 19"],
                 {"id": 19, "reason": "missing_records", "expected_last_id": 20}, 18,
                 id="last range removed"),
    pytest.param(SWAP, {"id": 6, "reason": "prev_hash_mismatch"}, 5,
                 id="swapped across a boundary"),
    pytest.param(["UPDATE audit_records SET actor_name = 'eve' WHERE id = 5",
                  "UPDATE audit_records SET actor_name = 'eve' WHERE id = 14"],
                 {"id": 5, "reason": "hash_mismatch"}, 4,
                 id="two ranges changed: the first is named"),
])
def test_tampering_at_range_edges_is_named_as_by_the_single_walk(
        chain: None, sessions: sessionmaker[Session], calls: list[dict[str, Any]],
        statements: list[str], broken: dict[str, Any], records: int) -> None:
    _sql(sessions, *statements)
    report = _both(sessions, calls)
    assert report["intact"] is False
    assert (report["broken"], report["records"]) == (broken, records)


def test_a_rehashed_last_record_of_a_range_breaks_the_next_ranges_first(
        chain: None, sessions: sessionmaker[Session],
        calls: list[dict[str, Any]]) -> None:
    # Every record of both ranges checks on its own: only the link between
    # the ranges, checked when they are joined, is wrong.
    _rehash(sessions, 6, actor_name="eve")
    report = _both(sessions, calls)
    assert (report["broken"], report["records"], report["last_id"]) == (
        {"id": 7, "reason": "prev_hash_mismatch"}, 6, 6)


def test_a_relinked_first_record_of_a_range_is_named(
        chain: None, sessions: sessionmaker[Session],
        calls: list[dict[str, Any]]) -> None:
    _rehash(sessions, 10, prev_hash="f" * 64)
    assert _both(sessions, calls)["broken"] == {"id": 10,
                                                "reason": "prev_hash_mismatch"}


def _prune_first(sessions: sessionmaker[Session], count: int) -> None:
    with sessions() as s:
        assert prune(s, days=1, anchor_key=KEY, now=utcnow() + timedelta(days=2),
                     limit=count) == count
        s.commit()


def test_a_pruned_chain_verifies_from_its_anchor_in_ranges(
        chain: None, sessions: sessionmaker[Session],
        calls: list[dict[str, Any]]) -> None:
    _prune_first(sessions, 6)
    report = _both(sessions, calls)
    assert (report["intact"], report["records"], report["first_id"]) == (True, 14, 7)
    assert report["anchor"]["seq"] == 6
    assert calls[0]["after"] == 6


def test_a_forged_anchor_is_named_before_any_range_is_read(
        chain: None, sessions: sessionmaker[Session],
        calls: list[dict[str, Any]]) -> None:
    _prune_first(sessions, 6)
    _sql(sessions, "UPDATE audit_retention_anchors SET pruned = 5")
    with sessions() as s:
        report = verify_chain(s, KEY, **PARALLEL).to_dict()
    assert report["broken"] == {"id": 6, "reason": "anchor_invalid"}
    assert not calls


def test_a_removed_anchor_is_caught_in_ranges(
        chain: None, sessions: sessionmaker[Session],
        calls: list[dict[str, Any]]) -> None:
    _prune_first(sessions, 6)
    with sessions() as s:
        s.query(RetentionAnchor).delete()
        s.commit()
    assert _both(sessions, calls)["broken"] == {"id": 7, "reason": "missing_records",
                                                "expected_id": 1}


def test_a_short_chain_stays_in_this_process(
        chain: None, sessions: sessionmaker[Session],
        calls: list[dict[str, Any]]) -> None:
    with sessions() as s:
        assert verify_chain(s, KEY, processes=2, parallel_from=RECORDS + 1).intact
        assert verify_chain(s, KEY, processes=2).intact  # PARALLEL_FROM: 50,000
    assert not calls


def test_sqlite_in_memory_stays_in_this_process(
        make_envelope: Callable[..., Any], calls: list[dict[str, Any]]) -> None:
    engine = make_engine("sqlite://")
    try:
        upgrade_engine(engine)
        sessions = make_sessionmaker(engine)
        with sessions() as s:
            for i in range(3):
                append(s, make_envelope("catalog.team.created",
                                        {"entity_id": i, "name": f"t{i}"}))
            s.commit()
        with sessions() as s:
            report = verify_chain(s, KEY, **PARALLEL).to_dict()
    finally:
        engine.dispose()
    assert (report["intact"], report["records"]) == (True, 3)
    assert not calls


def test_workers_are_spawned_even_from_a_threaded_server(
        record: Callable[..., Any], sessions: sessionmaker[Session],
        monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(3):
        record("catalog.team.created", {"entity_id": i, "name": f"t{i}"})
    methods: list[str] = []

    class Recording(ProcessPoolExecutor):
        def __init__(self, *args: Any, mp_context: Any, **kw: Any) -> None:
            methods.append(mp_context.get_start_method())
            super().__init__(  # type: ignore[call-overload]
                *args, mp_context=mp_context, **kw)

    monkeypatch.setattr(parallel_verify, "ProcessPoolExecutor", Recording)
    reports: list[dict[str, Any]] = []

    def request() -> None:  # as gunicorn's gthread worker runs a view
        with sessions() as s:
            reports.append(verify_chain(s, KEY, **PARALLEL).to_dict())

    thread = threading.Thread(target=request)
    thread.start()
    thread.join(timeout=120)
    assert methods == ["spawn"]
    assert reports == [{"intact": True, "records": 3, "first_id": 1, "last_id": 3,
                        "anchor": None}]


@pytest.fixture
def config(config: AuditConfig, request: pytest.FixtureRequest) -> AuditConfig:
    processes = getattr(request, "param", 2)
    return dataclasses.replace(config, verify_processes=processes)


@pytest.mark.parametrize(("config", "walks"), [(2, 1), (1, 0)], indirect=["config"])
def test_the_api_uses_the_configured_processes(
        chain: None, client: FlaskClient, auth: Callable[..., dict[str, str]],
        calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch,
        walks: int) -> None:
    monkeypatch.setattr(verification, "PARALLEL_FROM", 10)
    resp = client.get("/api/v1/audit/verify", headers=auth("root", admin=True))
    assert resp.status_code == 200
    assert resp.get_json()["intact"] is True
    assert [c["processes"] for c in calls] == [2] * walks


def test_verify_processes_default_to_the_cpus_up_to_four(tmp_path: Path) -> None:
    import os

    config = load(AuditConfig, {"BERTH_HOME": str(tmp_path)})
    assert config.verify_processes == max(1, min(os.cpu_count() or 1, 4))
    three = load(AuditConfig, {"BERTH_HOME": str(tmp_path),
                               "BERTH_AUDIT_VERIFY_PROCESSES": "3"})
    assert three.verify_processes == 3


@pytest.mark.parametrize("raw", ["0", "-2", "two"])
def test_verify_processes_must_be_a_positive_number(tmp_path: Path, raw: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(AuditConfig, {"BERTH_HOME": str(tmp_path),
                           "BERTH_AUDIT_VERIFY_PROCESSES": raw})
    assert "BERTH_AUDIT_VERIFY_PROCESSES" in "\n".join(err.value.problems)
