"""A reconcile batch that loses a deadlock to a notification is run again."""

from __future__ import annotations

from typing import Any

import pytest
from berth.syncer.services import apply
from berth.syncer.services.apply import Applier, Listing, RunStats
from sqlalchemy.exc import OperationalError


class _Driver(Exception):
    pass


def _error(code: int) -> OperationalError:
    return OperationalError("INSERT ...", {}, _Driver(code, "lock trouble"))


def _applier(monkeypatch: pytest.MonkeyPatch, failures: list[int]) -> tuple[Applier, list[int]]:
    monkeypatch.setattr(apply.time, "sleep", lambda _s: None)
    applier = Applier(factory=None, outbox=None, run_id=1,  # type: ignore[arg-type]
                      registry="registry.test", deletes=False)
    calls: list[int] = []

    def transaction(listings: list[Listing]) -> RunStats:
        calls.append(len(listings))
        if failures:
            raise _error(failures.pop(0))
        return RunStats(added=len(listings))

    monkeypatch.setattr(applier, "_transaction", transaction)
    return applier, calls


def _listings(n: int) -> list[Any]:
    return [object() for _ in range(n)]


def test_a_deadlocked_batch_is_run_again_and_counted_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    applier, calls = _applier(monkeypatch, [1213, 1205])
    stats = RunStats()
    applier.apply(_listings(3), stats)
    assert calls == [3, 3, 3]
    assert stats.added == 3


def test_other_database_errors_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    applier, calls = _applier(monkeypatch, [2006])
    with pytest.raises(OperationalError):
        applier.apply(_listings(2), RunStats())
    assert calls == [2]


def test_a_batch_that_keeps_deadlocking_fails_after_a_few_attempts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    applier, calls = _applier(monkeypatch, [1213] * 10)
    with pytest.raises(OperationalError):
        applier.apply(_listings(1), RunStats())
    assert len(calls) == apply.ATTEMPTS
