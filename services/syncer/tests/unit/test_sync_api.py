"""/api/v1/sync: admin only, 202 with the run, 409 while one runs, listing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from berth.syncer.errors import SyncRunning
from berth.syncer.models import SyncLock
from berth.syncer.services.observed import utcnow
from sqlalchemy import update
from syncer_testing import ADMIN, INTERNAL, USER, bearer, wait_for


def reconciler(app):
    return app.extensions["berth.syncer"].reconciler


def assert_error(resp, status, code=None):
    assert resp.status_code == status
    body = resp.get_json()
    assert body["message"] and body["errors"][0]["code"]
    if code:
        assert body["errors"][0]["code"] == code


@pytest.mark.parametrize("method,path", [("post", "/api/v1/sync"),
                                         ("get", "/api/v1/sync"),
                                         ("get", "/api/v1/sync/1")])
def test_anonymous_gets_401(client, method, path):
    assert_error(getattr(client, method)(path), 401)


@pytest.mark.parametrize("method,path", [("post", "/api/v1/sync"),
                                         ("get", "/api/v1/sync"),
                                         ("get", "/api/v1/sync/1")])
def test_non_admin_gets_403(client, method, path):
    assert_error(getattr(client, method)(path, headers=USER), 403)


def test_bad_token_gets_401(client):
    assert_error(client.get("/api/v1/sync", headers={"Authorization": "Bearer x.y.z"}),
                 401)


def test_unknown_run_is_404(client):
    assert_error(client.get("/api/v1/sync/999", headers=ADMIN), 404)


def test_invalid_strategy_is_422_and_malformed_body_400(client):
    assert_error(client.post("/api/v1/sync", json={"strategy": "everything"},
                             headers=ADMIN), 422)
    assert_error(client.post("/api/v1/sync", data="{nope",
                             content_type="application/json", headers=ADMIN), 400)


def test_admin_starts_a_run_and_sees_it_finish_with_errors_when_registry_is_down(
        client):
    resp = client.post("/api/v1/sync", json={"strategy": "update"}, headers=ADMIN)
    assert resp.status_code == 202
    run = resp.get_json()
    assert run["status"] == "running" and run["strategy"] == "update"
    assert run["triggered_by"] == "admin"
    assert resp.headers["Location"].endswith(f"/api/v1/sync/{run['id']}")

    def finished():
        body = client.get(f"/api/v1/sync/{run['id']}", headers=ADMIN).get_json()
        return body if body["status"] != "running" else None

    done = wait_for(finished)
    # The configured registry (127.0.0.1:9) is not there: errors, nothing removed.
    assert done["status"] == "partial" and done["errors"] == 1
    assert done["removed"] == 0 and done["error_details"][0]["where"] == "catalog"
    listing = client.get("/api/v1/sync", headers=ADMIN)
    assert listing.status_code == 200 and listing.headers["X-Total"] == "1"
    assert [r["id"] for r in listing.get_json()] == [run["id"]]


def test_second_start_while_running_is_409(app, client):
    run, lock = reconciler(app).start("system:test")
    try:
        resp = client.post("/api/v1/sync", headers=ADMIN)
        assert_error(resp, 409, "SYNC_RUNNING")
        assert resp.get_json()["errors"][0]["detail"] == {"run_id": run.id}
        with pytest.raises(SyncRunning):
            reconciler(app).run_now("system:timer")
    finally:
        lock.release()
    assert reconciler(app).start("system:test")[1].holder()[1] is not None


def test_an_expired_lock_is_taken_over_and_its_run_marked_abandoned(app, runtime,
                                                                     client):
    dead, _lock = reconciler(app).start("system:crashed")
    with runtime.sessions.begin() as s:
        s.execute(update(SyncLock).values(expires_at=utcnow() - timedelta(seconds=1)))
    run, lock = reconciler(app).start("system:test")
    lock.release()
    body = client.get(f"/api/v1/sync/{dead.id}", headers=ADMIN).get_json()
    assert body["status"] == "abandoned"
    assert run.id != dead.id


def test_list_parameters_are_validated(client):
    assert_error(client.get("/api/v1/sync?sort_attr=secret", headers=ADMIN), 422)
    assert_error(client.get("/api/v1/sync?page=0", headers=ADMIN), 422)


def test_service_principal_counts_as_admin(client):
    assert client.get("/api/v1/sync", headers=INTERNAL).status_code == 200
    assert client.get("/api/v1/sync", headers=bearer("root", admin=True)).status_code == 200
