"""Portus' users API: 401, 403, 404, 422/400 and success for each endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from token_helpers import PASSWORD, assert_error, basic


def bearer(client: Any, username: str, password: str = PASSWORD) -> dict[str, str]:
    resp = client.post("/api/v1/auth/token", headers=basic(username, password))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return {"Authorization": f"Bearer {resp.get_json()['token']}"}


@pytest.fixture
def people(make_user) -> dict[str, Any]:
    return {"admin": make_user("admin", admin=True), "alice": make_user("alice"),
            "bob": make_user("bob")}


NEW_USER = {"user": {"username": "dave", "email": "dave@example.com",
                     "password": "long enough password"}}


# -- list --------------------------------------------------------------------

def test_list_requires_login(client, people) -> None:
    assert_error(client.get("/api/v1/users"), 401)


def test_list_is_admin_only(client, people) -> None:
    assert_error(client.get("/api/v1/users", headers=bearer(client, "alice")), 403)


def test_list_rejects_unknown_sort(client, people) -> None:
    resp = client.get("/api/v1/users?sort_attr=password_hash",
                      headers=bearer(client, "admin"))
    assert_error(resp, 422)


def test_list_paginates_with_portus_fields(client, people) -> None:
    resp = client.get("/api/v1/users?per_page=2&sort_attr=username&sort_order=desc",
                      headers=bearer(client, "admin"))
    assert resp.status_code == 200
    body = resp.get_json()
    assert [u["username"] for u in body] == ["bob", "alice"]
    assert resp.headers["X-Total"] == "3" and resp.headers["X-Total-Pages"] == "2"
    assert set(body[0]) >= {"id", "username", "email", "current_sign_in_at",
                            "last_sign_in_at", "created_at", "updated_at", "admin",
                            "enabled", "locked_at", "namespace_id", "display_name", "bot"}
    assert "password_hash" not in body[0]


def test_portus_auth_header_with_application_token(client, people, make_token) -> None:
    token = make_token(people["admin"])
    resp = client.get("/api/v1/users", headers={"Portus-Auth": f"admin:{token}"})
    assert resp.status_code == 200
    assert_error(client.get("/api/v1/users", headers={"Portus-Auth": "admin:wrong"}), 401)


# -- show --------------------------------------------------------------------

def test_show_by_id_and_email(client, people) -> None:
    admin = bearer(client, "admin")
    alice = people["alice"]
    assert client.get(f"/api/v1/users/{alice.id}", headers=admin).get_json()["username"] \
        == "alice"
    assert client.get("/api/v1/users/alice@example.com",
                      headers=admin).get_json()["id"] == alice.id


def test_show_unknown_is_404(client, people) -> None:
    assert_error(client.get("/api/v1/users/9999", headers=bearer(client, "admin")), 404)


def test_show_requires_login(client, people) -> None:
    assert_error(client.get(f"/api/v1/users/{people['alice'].id}"), 401)


def test_users_see_only_themselves_and_missing_looks_forbidden(client, people) -> None:
    alice = bearer(client, "alice")
    assert client.get(f"/api/v1/users/{people['alice'].id}", headers=alice).status_code \
        == 200
    assert_error(client.get(f"/api/v1/users/{people['bob'].id}", headers=alice), 403)
    assert_error(client.get("/api/v1/users/9999", headers=alice), 403)


# -- create ------------------------------------------------------------------

def test_admin_creates_user(client, people) -> None:
    resp = client.post("/api/v1/users", json=NEW_USER, headers=bearer(client, "admin"))
    assert resp.status_code == 201
    assert resp.get_json()["username"] == "dave" and resp.get_json()["admin"] is False
    assert client.get("/v2/token?service=s", headers=basic(
        "dave", "long enough password")).status_code == 200


def test_admin_creates_user_from_a_form(client, people) -> None:
    form = {f"user[{k}]": v for k, v in NEW_USER["user"].items()}
    resp = client.post("/api/v1/users", data=form, headers=bearer(client, "admin"))
    assert resp.status_code == 201, resp.get_data(as_text=True)


def test_non_admin_cannot_create(client, people) -> None:
    resp = client.post("/api/v1/users", json=NEW_USER, headers=bearer(client, "alice"))
    assert_error(resp, 403)


@pytest.mark.parametrize(("user", "field"), [
    ({"username": "Bad Name", "email": "x@example.com", "password": "long enough"},
     "username"),
    ({"username": "ok", "email": "not-an-email", "password": "long enough"}, "email"),
    ({"username": "ok", "email": "x@example.com", "password": "short"}, "password"),
    ({"username": "alice", "email": "x@example.com", "password": "long enough"},
     "username"),
    ({"username": "ok", "email": "alice@example.com", "password": "long enough"},
     "email"),
    ({"username": "berth", "email": "x@example.com", "password": "long enough"},
     "username"),
])
def test_create_invalid_is_422_naming_the_field(client, people, user, field) -> None:
    body = assert_error(client.post("/api/v1/users", json={"user": user},
                                    headers=bearer(client, "admin")), 422)
    assert field in body["errors"][0]["detail"]["fields"]


@pytest.mark.parametrize("payload", [{"user": "x"}, {"user": {"username": 5}}])
def test_create_malformed_is_422(client, people, payload) -> None:
    assert_error(client.post("/api/v1/users", json=payload,
                             headers=bearer(client, "admin")), 422)


def test_malformed_json_is_400(client, people) -> None:
    resp = client.post("/api/v1/users", data="{", content_type="application/json",
                       headers=bearer(client, "admin"))
    assert_error(resp, 400)


def test_admin_creates_token_only_bot(client, people) -> None:
    resp = client.post("/api/v1/users", json={"user": {"username": "ci-bot", "bot": True}},
                       headers=bearer(client, "admin"))
    assert resp.status_code == 201 and resp.get_json()["bot"] is True
    with_password = {"user": {"username": "bot2", "bot": True, "password": "long enough"}}
    assert_error(client.post("/api/v1/users", json=with_password,
                             headers=bearer(client, "admin")), 422)


# -- sign-up -----------------------------------------------------------------

def test_first_user_to_sign_up_is_admin(client) -> None:
    resp = client.post("/api/v1/users", json=NEW_USER)
    assert resp.status_code == 201 and resp.get_json()["admin"] is True
    second = {"user": {"username": "erin", "email": "erin@example.com",
                       "password": "long enough password"}}
    resp = client.post("/api/v1/users", json=second)
    assert resp.status_code == 201 and resp.get_json()["admin"] is False


def test_first_user_admin_can_be_off(make_app) -> None:
    client = make_app(BERTH_FIRST_USER_ADMIN="false").test_client()
    assert client.post("/api/v1/users", json=NEW_USER).get_json()["admin"] is False


def test_signup_disabled_requires_login(make_app) -> None:
    client = make_app(BERTH_SIGNUP_ENABLED="false").test_client()
    assert_error(client.post("/api/v1/users", json=NEW_USER), 401, "SIGNUP_DISABLED")


@pytest.mark.parametrize("extra", [{"admin": True}, {"bot": True}, {"enabled": True}])
def test_signup_refuses_privileged_fields(client, people, extra) -> None:
    payload = {"user": {**NEW_USER["user"], **extra}}
    assert_error(client.post("/api/v1/users", json=payload), 403, "PRIVILEGED_FIELD")


# -- update ------------------------------------------------------------------

def test_admin_disables_and_toggles_admin(client, people) -> None:
    admin = bearer(client, "admin")
    bob = people["bob"].id
    resp = client.put(f"/api/v1/users/{bob}", json={"user": {"enabled": False}},
                      headers=admin)
    assert resp.status_code == 200 and resp.get_json()["enabled"] is False
    assert_error(client.get("/v2/token?service=s", headers=basic("bob", PASSWORD)), 401)
    resp = client.put(f"/api/v1/users/{bob}", json={"user": {"admin": True,
                                                              "enabled": True}},
                      headers=admin)
    assert resp.get_json()["admin"] is True and resp.get_json()["enabled"] is True


def test_disabled_users_jwt_stops_working_at_once(client, people) -> None:
    alice = bearer(client, "alice")
    client.put(f"/api/v1/users/{people['alice'].id}", json={"user": {"enabled": False}},
               headers=bearer(client, "admin"))
    assert_error(client.get(f"/api/v1/users/{people['alice'].id}", headers=alice), 401)


def test_admin_cannot_change_own_flags(client, people) -> None:
    admin = bearer(client, "admin")
    me = people["admin"].id
    for change in ({"admin": False}, {"enabled": False}):
        assert_error(client.put(f"/api/v1/users/{me}", json={"user": change},
                                headers=admin), 422, "SELF_CHANGE")


def test_an_admin_can_demote_another_admin(client, people, make_user) -> None:
    make_user("root", admin=True)
    admin = bearer(client, "admin")
    root = bearer(client, "root")
    resp = client.put(f"/api/v1/users/{people['admin'].id}",
                      json={"user": {"admin": False}}, headers=root)
    assert resp.status_code == 200
    # "root" is now the only admin; "admin" can no longer act as one.
    assert_error(client.get("/api/v1/users", headers=admin), 403)


def test_the_last_enabled_admin_cannot_be_removed(app, people) -> None:
    from berth.common.errors import Conflict
    from berth.common.events.base import Actor
    from berth.token.models import User
    from berth.token.services.users import Changes

    svc = app.extensions["berth.token"]
    with svc.runtime.sessions() as session:
        admin = session.get(User, people["admin"].id)
        with pytest.raises(Conflict):
            svc.users.update(session, admin, Changes(enabled=False), acting=None,
                             actor=Actor.system())
        session.rollback()


def test_user_updates_own_profile_but_not_privileged_fields(client, people) -> None:
    alice = bearer(client, "alice")
    me = people["alice"].id
    resp = client.put(f"/api/v1/users/{me}", json={"user": {"display_name": "Alice A."}},
                      headers=alice)
    assert resp.status_code == 200 and resp.get_json()["display_name"] == "Alice A."
    assert_error(client.put(f"/api/v1/users/{me}", json={"user": {"admin": True}},
                            headers=alice), 403, "PRIVILEGED_FIELD")
    assert_error(client.put(f"/api/v1/users/{people['bob'].id}",
                            json={"user": {"display_name": "x"}}, headers=alice), 403)


def test_own_password_change_needs_the_current_one(client, people) -> None:
    alice = bearer(client, "alice")
    me = people["alice"].id
    assert_error(client.put(f"/api/v1/users/{me}", json={"user": {
        "password": "brand new password"}}, headers=alice), 422)
    resp = client.put(f"/api/v1/users/{me}", json={"user": {
        "password": "brand new password", "current_password": PASSWORD}}, headers=alice)
    assert resp.status_code == 200
    assert_error(client.get("/v2/token?service=s", headers=basic("alice", PASSWORD)), 401)
    assert client.get("/v2/token?service=s", headers=basic(
        "alice", "brand new password")).status_code == 200


def test_update_unknown_is_404_and_invalid_is_422(client, people) -> None:
    admin = bearer(client, "admin")
    assert_error(client.put("/api/v1/users/9999", json={"user": {}}, headers=admin), 404)
    assert_error(client.put(f"/api/v1/users/{people['bob'].id}",
                            json={"user": {"email": "nope"}}, headers=admin), 422)
    assert_error(client.put(f"/api/v1/users/{people['bob'].id}",
                            json={"user": {"enabled": "maybe"}}, headers=admin), 422)


def test_update_requires_login(client, people) -> None:
    assert_error(client.put(f"/api/v1/users/{people['bob'].id}", json={"user": {}}), 401)


# -- delete ------------------------------------------------------------------

def test_delete(client, people) -> None:
    admin = bearer(client, "admin")
    assert_error(client.delete(f"/api/v1/users/{people['bob'].id}"), 401)
    assert_error(client.delete(f"/api/v1/users/{people['bob'].id}",
                               headers=bearer(client, "alice")), 403)
    assert_error(client.delete("/api/v1/users/9999", headers=admin), 404)
    assert_error(client.delete(f"/api/v1/users/{people['admin'].id}", headers=admin), 422)
    assert client.delete(f"/api/v1/users/{people['bob'].id}", headers=admin).status_code \
        == 204
    assert_error(client.get(f"/api/v1/users/{people['bob'].id}", headers=admin), 404)


# -- bootstrap ---------------------------------------------------------------

def test_bootstrap_creates_the_first_admin_with_a_token(client) -> None:
    resp = client.post("/api/v1/users/bootstrap", json=NEW_USER)
    assert resp.status_code == 201
    token = resp.get_json()["plain_token"]
    listing = client.get("/api/v1/users", headers={"Portus-Auth": f"dave:{token}"})
    assert listing.status_code == 200 and listing.get_json()[0]["admin"] is True
    assert_error(client.post("/api/v1/users/bootstrap", json={"user": {
        "username": "eve", "email": "eve@example.com", "password": "long enough"}}),
        400, "ALREADY_BOOTSTRAPPED")


def test_bootstrap_can_be_disabled(make_app) -> None:
    client = make_app(BERTH_BOOTSTRAP_ENABLED="false").test_client()
    assert_error(client.post("/api/v1/users/bootstrap", json=NEW_USER), 405)


def test_bootstrap_validates(client) -> None:
    assert_error(client.post("/api/v1/users/bootstrap", json={"user": {
        "username": "dave"}}), 422)


def test_only_one_caller_ever_claims_the_first_admin(app) -> None:
    svc = app.extensions["berth.token"]
    with svc.runtime.sessions() as session:
        assert svc.users.claim_first(session) is True
        session.commit()
    with svc.runtime.sessions() as session:
        assert svc.users.claim_first(session) is False


def test_a_bootstrap_racing_another_loses(app, client) -> None:
    # the other request claimed the first admin but has not committed its user yet
    svc = app.extensions["berth.token"]
    with svc.runtime.sessions() as session:
        svc.users.claim_first(session)
        session.commit()
    assert_error(client.post("/api/v1/users/bootstrap", json=NEW_USER), 400,
                 "ALREADY_BOOTSTRAPPED")
    assert client.post("/api/v1/users", json=NEW_USER).get_json()["admin"] is False
