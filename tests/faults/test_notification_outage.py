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
    run = faults.run_reconcile()
    assert run["status"] == "succeeded", run
    faults.assert_converges("fault-notify", outcomes)


def test_notifications_lost_with_the_registry_are_recovered_by_reconcile(
        fstack: RunningStack, admin: Admin, faults: Faults, tmp_path: Path) -> None:
    """The registry keeps undelivered notifications only in memory: restarted
    while the syncer is down, it loses them. Only the reconcile can close that
    gap; the audit log then records those tags as ``repository.sync_add``."""
    stream = PushStream(fstack, admin.creds, "fault-lost", tmp_path,
                        count=PUSHES // 2).start()
    stream.wait_for(PUSHES // 8)
    assert "stopped" in fstack.supervisorctl("stop", "syncer")
    try:
        stream.wait_for(PUSHES // 4)
        assert "started" in fstack.supervisorctl("restart", "registry")
    finally:
        fstack.supervisorctl("start", "syncer")
    faults.wait_until(lambda: faults.healthy("syncer"), 60, "the syncer to come back")
    outcomes = stream.finish()
    # The lost notifications leave the catalog short until the reconcile runs.
    assert len(faults.catalog_tags("fault-lost")) < len(outcomes)
    run = faults.run_reconcile()
    assert run["status"] == "succeeded", run
    assert run["added"] > 0, run
    faults.assert_converges("fault-lost", outcomes, action="repository.sync_add")
