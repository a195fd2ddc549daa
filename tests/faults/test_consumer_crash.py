"""Scenario 1: the catalog's bus consumer is killed with SIGKILL mid-stream;
supervisord restarts it and RabbitMQ redelivers what it had not acked."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.support.stack import RunningStack
from tests.faults.support import PUSHES, Admin, Faults, PushStream


def test_catalog_consumer_killed_loses_and_doubles_nothing(
        fstack: RunningStack, admin: Admin, faults: Faults, tmp_path: Path) -> None:
    stream = PushStream(fstack, admin.creds, "fault-consumer", tmp_path).start()
    for round_ in (1, 2):
        stream.wait_for(PUSHES * round_ // 3)
        faults.crash("catalog-worker")
    outcomes = stream.finish()
    faults.assert_converges("fault-consumer", outcomes)
