"""Scenario 4: the syncer's notification endpoint (its web process) is stopped
for 30 s while pushes go on, then started again; an admin's reconcile
(``POST /api/v1/sync``) closes whatever gap is left. The registry keeps the
undelivered notifications in memory and retries them, so the audit log still
holds one ``repository.push`` per push, and the catalog lists every tag once."""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.support.stack import RunningStack
from tests.faults.support import PUSHES, Admin, Faults, PushStream

OUTAGE = 30.0


def test_notification_endpoint_down_then_reconcile_closes_the_gap(
        fstack: RunningStack, admin: Admin, faults: Faults, tmp_path: Path) -> None:
    stream = PushStream(fstack, admin.creds, "fault-notify", tmp_path).start()
    stream.wait_for(PUSHES // 4)
    assert "stopped" in fstack.supervisorctl("stop", "syncer")
    try:
        down_at = stream.done
        # Pushes do not depend on the syncer: the registry accepts them meanwhile.
        time.sleep(OUTAGE)
        assert stream.done > down_at, "pushes stalled while notifications failed"
        resp = faults.api("GET", "/api/v1/sync")
        assert resp.status_code in (502, 503, 504), resp.status_code
    finally:
        fstack.supervisorctl("start", "syncer")
    faults.wait_until(lambda: faults.healthy("syncer"), 60, "the syncer to come back")
    outcomes = stream.finish()

    resp = faults.api("POST", "/api/v1/sync", json={})
    assert resp.status_code == 202, resp.text
    run_id = resp.json()["id"]

    def finished() -> bool:
        run = faults.api("GET", f"/api/v1/sync/{run_id}").json()
        return run["status"] != "running"

    faults.wait_until(finished, 60, "the reconcile to finish")
    run = faults.api("GET", f"/api/v1/sync/{run_id}").json()
    assert run["status"] == "succeeded", run
    faults.assert_converges("fault-notify", outcomes)
