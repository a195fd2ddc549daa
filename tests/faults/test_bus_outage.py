"""Scenario 2: the stack's RabbitMQ node is stopped mid-stream and started
again (same port, same data) 15 s later. Outboxes hold what could not be
published; consumers reconnect by themselves; health reports the outage while
it lasts."""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.support.stack import RunningStack
from tests.faults.support import PUSHES, Admin, Faults, PushStream

OUTAGE = 15.0


def test_bus_outage_loses_and_doubles_nothing(
        fstack: RunningStack, admin: Admin, faults: Faults, tmp_path: Path) -> None:
    stream = PushStream(fstack, admin.creds, "fault-bus", tmp_path).start()
    stream.wait_for(PUSHES // 4)
    with faults.bus_outage():
        started = time.monotonic()
        for svc in ("token", "catalog", "syncer", "audit"):
            faults.wait_until(lambda s=svc: faults.health(s) == 503, OUTAGE,
                              f"the {svc} service's health to report the bus outage")
        time.sleep(max(0.0, OUTAGE - (time.monotonic() - started)))
    faults.wait_until(lambda: faults.healthy("token", "catalog", "syncer", "audit"),
                      60, "every service to report healthy again")
    outcomes = stream.finish()
    faults.assert_converges("fault-bus", outcomes)
