"""Application tokens: users manage their own, admins anyone's."""

from __future__ import annotations

from typing import Any

import pytest
from token_helpers import PASSWORD, assert_error, basic


def bearer(client: Any, username: str) -> dict[str, str]:
    token = client.post("/api/v1/auth/token", headers=basic(username, PASSWORD)).get_json()
    return {"Authorization": f"Bearer {token['token']}"}


@pytest.fixture
def people(make_user) -> dict[str, Any]:
    return {"admin": make_user("admin", admin=True), "alice": make_user("alice"),
            "bob": make_user("bob")}


def test_create_list_use_and_delete(client, people) -> None:
    alice = bearer(client, "alice")
    me = people["alice"].id
    resp = client.post(f"/api/v1/users/{me}/application_tokens",
                       json={"application": "laptop"}, headers=alice)
    assert resp.status_code == 201
    created = resp.get_json()
    assert created["application"] == "laptop" and len(created["plain_token"]) >= 40
    listing = client.get(f"/api/v1/users/{me}/application_tokens", headers=alice)
    assert [t["application"] for t in listing.get_json()] == ["laptop"]
    assert "plain_token" not in listing.get_json()[0]
    assert client.get("/v2/token?service=s", headers=basic(
        "alice", created["plain_token"])).status_code == 200
    assert client.delete(f"/api/v1/users/application_tokens/{created['id']}",
                         headers=alice).status_code == 204
    assert_error(client.get("/v2/token?service=s", headers=basic(
        "alice", created["plain_token"])), 401)


def test_stored_hashed(app, client, people) -> None:
    from berth.token.models import ApplicationToken
    from sqlalchemy import select

    plain = client.post(f"/api/v1/users/{people['alice'].id}/application_tokens",
                        json={"application": "x"},
                        headers=bearer(client, "alice")).get_json()["plain_token"]
    with app.extensions["berth.token"].runtime.sessions() as session:
        stored = session.scalars(select(ApplicationToken.token_hash)).all()
    assert plain not in stored and len(stored[0]) == 64


def test_form_body_and_portus_nesting(client, people) -> None:
    me = people["alice"].id
    alice = bearer(client, "alice")
    assert client.post(f"/api/v1/users/{me}/application_tokens",
                       data={"application": "form"}, headers=alice).status_code == 201
    assert client.post(f"/api/v1/users/{me}/application_tokens",
                       json={"application_token": {"application": "nested"}},
                       headers=alice).status_code == 201


def test_requires_login(client, people) -> None:
    me = people["alice"].id
    assert_error(client.get(f"/api/v1/users/{me}/application_tokens"), 401)
    assert_error(client.post(f"/api/v1/users/{me}/application_tokens",
                             json={"application": "x"}), 401)
    assert_error(client.delete("/api/v1/users/application_tokens/1"), 401)


def test_users_cannot_touch_others_tokens(client, people, make_token) -> None:
    alice = bearer(client, "alice")
    bob = people["bob"].id
    assert_error(client.get(f"/api/v1/users/{bob}/application_tokens", headers=alice), 403)
    assert_error(client.post(f"/api/v1/users/{bob}/application_tokens",
                             json={"application": "x"}, headers=alice), 403)
    make_token(people["bob"], "bobs")
    bobs = client.get(f"/api/v1/users/{bob}/application_tokens",
                      headers=bearer(client, "admin")).get_json()[0]["id"]
    # someone else's token looks exactly like a missing one
    other = client.delete(f"/api/v1/users/application_tokens/{bobs}", headers=alice)
    missing = client.delete("/api/v1/users/application_tokens/9999", headers=alice)
    assert_error(other, 404)
    assert other.get_json() == missing.get_json()


def test_admin_manages_anyones_tokens(client, people) -> None:
    admin = bearer(client, "admin")
    bob = people["bob"].id
    created = client.post(f"/api/v1/users/{bob}/application_tokens",
                          json={"application": "ci"}, headers=admin)
    assert created.status_code == 201
    assert client.delete(f"/api/v1/users/application_tokens/{created.get_json()['id']}",
                         headers=admin).status_code == 204
    assert_error(client.get("/api/v1/users/9999/application_tokens", headers=admin), 404)


def test_limits_and_validation(client, people) -> None:
    alice = bearer(client, "alice")
    url = f"/api/v1/users/{people['alice'].id}/application_tokens"
    assert_error(client.post(url, json={}, headers=alice), 400)
    assert_error(client.post(url, json={"application": 7}, headers=alice), 400)
    for i in range(5):
        assert client.post(url, json={"application": f"a{i}"},
                           headers=alice).status_code == 201
    assert_error(client.post(url, json={"application": "a0"}, headers=alice), 400)
    assert_error(client.post(url, json={"application": "sixth"}, headers=alice), 400,
                 "TOO_MANY_TOKENS")


def test_duplicate_application_name_is_refused(client, people) -> None:
    alice = bearer(client, "alice")
    url = f"/api/v1/users/{people['alice'].id}/application_tokens"
    client.post(url, json={"application": "dup"}, headers=alice)
    assert_error(client.post(url, json={"application": "dup"}, headers=alice), 400, "TAKEN")
