"""Scenario 1: the catalog's bus consumer is killed with SIGKILL mid-stream,
twice; supervisord restarts it and RabbitMQ redelivers what it had not acked.
The audit service's consumer is killed the same way in between, in the same
stream: the catalog check proves the one, the audit check the other."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.support.stack import RunningStack
from tests.faults.support import PUSHES, Admin, Faults, PushStream

# (fraction of the stream pushed, consumer killed then)
KILLS = [(1 / 4, "catalog-worker"), (2 / 4, "audit-worker"),
         (3 / 4, "catalog-worker"), (3 / 4, "audit-worker")]


def test_consumers_killed_lose_and_double_nothing(
        fstack: RunningStack, admin: Admin, faults: Faults, tmp_path: Path) -> None:
    repo = "fault-consumers"
    stream = PushStream(fstack, admin.creds, repo, tmp_path).start()
    for fraction, program in KILLS:
        stream.wait_for(int(PUSHES * fraction))
        faults.crash(program)
    outcomes = stream.finish()
    faults.assert_converges(repo, outcomes)
