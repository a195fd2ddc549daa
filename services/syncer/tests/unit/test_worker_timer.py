"""The reconcile timer follows Portus' strategies."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import pytest
from berth.syncer.errors import SyncRunning
from berth.syncer.services import observed
from berth.syncer.worker import ReconcileTimer


class Recorder:
    def __init__(self, busy: bool = False) -> None:
        self.calls: list[str] = []
        self.busy = busy

    def run_now(self, trigger: str) -> None:
        self.calls.append(trigger)
        if self.busy:
            raise SyncRunning("busy")


def run_timer(config: Any, runtime: Any, reconciler: Recorder, ticks: int = 0,
              **changes: Any) -> list[str]:
    cfg = dataclasses.replace(config, sync_interval=0.01, **changes)
    stop = threading.Event()
    if ticks:
        # Let a few intervals pass, then stop.
        threading.Timer(0.01 * ticks + 0.05, stop.set).start()
    else:
        stop.set()
    ReconcileTimer(reconciler, runtime, cfg).run(stop)  # type: ignore[arg-type]
    return reconciler.calls


@pytest.mark.parametrize("strategy", ["update", "update-delete"])
def test_periodic_strategies_run_at_start_and_on_every_interval(config, runtime,
                                                                strategy):
    calls = run_timer(config, runtime, Recorder(), ticks=5, sync_strategy=strategy)
    assert calls[0] == "system:start" and calls.count("system:timer") >= 2


def test_on_start_false_waits_for_the_first_interval(config, runtime):
    calls = run_timer(config, runtime, Recorder(), sync_on_start=False)
    assert calls == []


def test_on_start_strategy_runs_once(config, runtime):
    calls = run_timer(config, runtime, Recorder(), ticks=5, sync_strategy="on-start")
    assert calls == ["system:start"]


def test_initial_runs_only_into_an_empty_state(config, runtime):
    assert run_timer(config, runtime, Recorder(), sync_strategy="initial") == \
        ["system:start"]
    with runtime.sessions() as s:
        observed.repository(s, "registry.test:5000", "a")
        s.commit()
    assert run_timer(config, runtime, Recorder(), sync_strategy="initial") == []


def test_a_busy_lock_is_skipped_not_fatal(config, runtime):
    calls = run_timer(config, runtime, Recorder(busy=True), ticks=3)
    assert len(calls) >= 2
