"""Scenario 1: the catalog's bus consumer (and, the same way, the audit
service's) is killed with SIGKILL mid-stream; supervisord restarts it and
RabbitMQ redelivers what it had not acked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.support.stack import RunningStack
from tests.faults.support import PUSHES, Admin, Faults, PushStream


@pytest.mark.parametrize("program", ["catalog-worker", "audit-worker"])
def test_consumer_killed_loses_and_doubles_nothing(
        fstack: RunningStack, admin: Admin, faults: Faults, tmp_path: Path,
        program: str) -> None:
    repo = f"fault-{program}"
    stream = PushStream(fstack, admin.creds, repo, tmp_path).start()
    for round_ in (1, 2):
        stream.wait_for(PUSHES * round_ // 3)
        faults.crash(program)
    outcomes = stream.finish()
    faults.assert_converges(repo, outcomes)
