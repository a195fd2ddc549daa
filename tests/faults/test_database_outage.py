"""Scenario 3: the stack's MariaDB server is stopped mid-stream and started
again (same port, same data) 15 s later. Requests answer 503 meanwhile, pushes
that failed are retried, workers and web processes reconnect by themselves."""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.support.stack import RunningStack
from tests.faults.support import PUSHES, Admin, Faults, PushStream

OUTAGE = 15.0


def test_database_outage_loses_and_doubles_nothing(
        fstack: RunningStack, admin: Admin, faults: Faults, tmp_path: Path) -> None:
    stream = PushStream(fstack, admin.creds, "fault-db", tmp_path).start()
    stream.wait_for(PUSHES // 4)
    with faults.database_outage():
        started = time.monotonic()
        for svc in ("token", "catalog", "syncer", "audit"):
            assert faults.health(svc) == 503, svc
        assert time.monotonic() - started < 20, "health checks hang on the database"
        time.sleep(max(0.0, OUTAGE - (time.monotonic() - started)))
    faults.wait_until(lambda: faults.healthy("token", "catalog", "syncer", "audit"),
                      60, "every service to report healthy again")
    outcomes = stream.finish()
    faults.assert_converges("fault-db", outcomes)
