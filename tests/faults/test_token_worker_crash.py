"""Scenario 5: gunicorn workers of the token service are killed with SIGKILL
while pushes are in flight (one every half second for several seconds, so
token requests die half-answered); the master replaces them, clients that saw
an error retry, and nothing is lost or doubled."""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.support.stack import RunningStack
from tests.faults.support import PUSHES, Admin, Faults, PushStream

STORM = 6.0      # seconds of killing
EVERY = 0.5      # seconds between kills


def test_token_workers_killed_in_flight_lose_and_double_nothing(
        fstack: RunningStack, admin: Admin, faults: Faults, tmp_path: Path) -> None:
    stream = PushStream(fstack, admin.creds, "fault-token", tmp_path).start()
    master = faults.pid("token")
    stream.wait_for(PUSHES // 4)
    killed: list[int] = []
    until = time.monotonic() + STORM
    while time.monotonic() < until:
        workers = [w for w in faults.children(master) if w not in killed]
        if workers:
            faults.kill9(workers[0])
            killed.append(workers[0])
        time.sleep(EVERY)
    assert len(killed) >= 3, killed

    def replaced() -> bool:
        now = faults.children(master)
        return len(now) >= 2 and not set(now) & set(killed)

    faults.wait_until(replaced, 30, "gunicorn to replace the killed workers")
    assert faults.pid("token") == master, "the master itself must survive"
    outcomes = stream.finish()
    faults.assert_converges("fault-token", outcomes)
