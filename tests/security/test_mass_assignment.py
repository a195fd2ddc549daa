"""Mass assignment: privileged fields (admin, enabled, bot) sent by someone
who may not set them are refused, and nothing changes."""

from __future__ import annotations

import pytest

from tests.security.conftest import Berth, assert_error_shape


@pytest.mark.parametrize("extra", [{"admin": True}, {"enabled": False}, {"bot": True},
                                   {"admin": "true"}, {"admin": 1}])
def test_sign_up_cannot_set_privileged_fields(berth: Berth, extra: dict) -> None:
    name = f"mass{abs(hash(str(extra))) % 10**6}"
    resp = berth.token_call("POST", "/api/v1/users", json={"user": {
        "username": name, "email": f"{name}@example.test",
        "password": "long-enough-1", **extra}})
    assert_error_shape(resp, 403)
    admin_list = berth.token_call("GET", "/api/v1/users", params={"all": "true"},
                                  headers=berth.as_("root")).json()
    assert name not in {u["username"] for u in admin_list}


def test_sign_up_as_form_with_portus_nesting_cannot_set_admin(berth: Berth) -> None:
    resp = berth.token_call("POST", "/api/v1/users", data={
        "user[username]": "massform", "user[email]": "massform@example.test",
        "user[password]": "long-enough-1", "user[admin]": "true"})
    assert_error_shape(resp, 403)


@pytest.mark.parametrize("extra", [{"admin": True}, {"enabled": False}, {"bot": True},
                                   {"admin": False}])
def test_user_cannot_update_own_privileged_fields(berth: Berth, extra: dict) -> None:
    uid = berth.ids["alice"]
    resp = berth.token_call("PUT", f"/api/v1/users/{uid}", json={"user": extra},
                            headers=berth.as_("alice"))
    assert_error_shape(resp, 403)
    me = berth.token_call("GET", f"/api/v1/users/{uid}", headers=berth.as_("alice"))
    assert me.json()["admin"] is False and me.json()["enabled"] is True
    assert me.json()["bot"] is False


def test_user_cannot_rename_themselves_into_someone_else(berth: Berth) -> None:
    uid = berth.ids["alice"]
    resp = berth.token_call("PUT", f"/api/v1/users/{uid}",
                            json={"user": {"username": "root"}},
                            headers=berth.as_("alice"))
    assert_error_shape(resp, 422)


def test_registry_token_of_a_mass_assigned_user_grants_nothing_extra(berth: Berth) -> None:
    # alice tried to become admin above; pushing to the global namespace (admins
    # only) must still be refused.
    resp = berth.registry_token("alice", "repository:busybox:push,pull")
    assert resp.status_code == 200
    from tests.security.test_token_scopes import access_of

    assert "push" not in [a for s in access_of(berth, resp) for a in s["actions"]]


def test_non_admin_cannot_create_users_with_privileges(berth: Berth) -> None:
    resp = berth.token_call("POST", "/api/v1/users", headers=berth.as_("alice"),
                            json={"user": {"username": "sneaky", "email": "s@example.test",
                                           "password": "long-enough-1", "admin": True}})
    assert_error_shape(resp, 403)
