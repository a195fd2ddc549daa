"""Scenario 5: a gunicorn worker of the token service is killed with SIGKILL
while pushes are in flight; the master replaces it, clients that saw an error
retry, and nothing is lost or doubled."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.support.stack import RunningStack
from tests.faults.support import PUSHES, Admin, Faults, PushStream


def test_token_worker_killed_in_flight_loses_and_doubles_nothing(
        fstack: RunningStack, admin: Admin, faults: Faults, tmp_path: Path) -> None:
    stream = PushStream(fstack, admin.creds, "fault-token", tmp_path).start()
    master = faults.pid("token")
    for round_ in (1, 2, 3):
        stream.wait_for(PUSHES * round_ // 4)
        workers = faults.children(master)
        assert workers, "the token service has no gunicorn worker"
        victim = workers[0]
        faults.kill9(victim)

        def replaced(count: int = len(workers), gone: int = victim) -> bool:
            now = faults.children(master)
            return len(now) >= count and gone not in now

        faults.wait_until(replaced, 30, "gunicorn to replace the killed worker")
    assert faults.pid("token") == master, "the master itself must survive"
    outcomes = stream.finish()
    faults.assert_converges("fault-token", outcomes)
