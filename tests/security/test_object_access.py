"""Object-level access: another user's application tokens, user record,
teams, namespaces, members and comments, by id — and enumeration: a missing
and a forbidden object answer the same."""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.conftest import Berth, assert_error_shape, basic


@pytest.fixture(scope="module")
def bobs(berth: Berth) -> dict[str, Any]:
    """bob's private team, namespace and application token."""
    out: dict[str, Any] = {}
    resp = berth.catalog_call("POST", "/api/v1/teams", headers=berth.as_("bob"),
                              json={"team": {"name": "bobteam", "description": "x"}})
    assert resp.status_code == 201, resp.text
    out["team"] = resp.json()["id"]
    resp = berth.catalog_call("POST", "/api/v1/namespaces", headers=berth.as_("bob"),
                              json={"namespace": {"name": "bobspace", "team": "bobteam",
                                                  "visibility": "private"}})
    assert resp.status_code == 201, resp.text
    out["namespace"] = resp.json()["id"]
    members = berth.catalog_call("GET", f"/api/v1/teams/{out['team']}/members",
                                 headers=berth.as_("bob")).json()
    out["member"] = members[0]["id"]
    uid = berth.ids["bob"]
    resp = berth.token_call("POST", f"/api/v1/users/{uid}/application_tokens",
                            headers=berth.as_("bob"), json={"application": "ci"})
    assert resp.status_code == 201, resp.text
    out["app_token"] = resp.json()["id"]
    out["plain"] = resp.json()["plain_token"]
    return out


def same_answer(a: Any, b: Any) -> None:
    assert (a.status_code, a.json()) == (b.status_code, b.json())


def test_application_tokens_of_another_user(berth: Berth, bobs: dict[str, Any]) -> None:
    bob, alice = berth.ids["bob"], berth.as_("alice")
    listing = berth.token_call("GET", f"/api/v1/users/{bob}/application_tokens",
                               headers=alice)
    assert listing.status_code in (403, 404)
    create = berth.token_call("POST", f"/api/v1/users/{bob}/application_tokens",
                              headers=alice, json={"application": "evil"})
    assert create.status_code in (403, 404)
    revoke = berth.token_call("DELETE",
                              f"/api/v1/users/application_tokens/{bobs['app_token']}",
                              headers=alice)
    missing = berth.token_call("DELETE", "/api/v1/users/application_tokens/999999",
                               headers=alice)
    assert revoke.status_code in (403, 404)
    same_answer(revoke, missing)
    # bob's token still works
    assert berth.catalog_call("GET", "/api/v1/teams", headers={
        "Portus-Auth": f"bob:{bobs['plain']}"}).status_code == 200


def test_another_users_record(berth: Berth) -> None:
    alice = berth.as_("alice")
    other = berth.token_call("GET", f"/api/v1/users/{berth.ids['bob']}", headers=alice)
    missing = berth.token_call("GET", "/api/v1/users/999999", headers=alice)
    assert other.status_code in (403, 404)
    same_answer(other, missing)
    put = berth.token_call("PUT", f"/api/v1/users/{berth.ids['bob']}", headers=alice,
                           json={"user": {"email": "pwned@example.test"}})
    assert put.status_code in (403, 404)
    assert berth.token_call("DELETE", f"/api/v1/users/{berth.ids['bob']}",
                            headers=alice).status_code == 403


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/api/v1/teams/{team}", None),
    ("PUT", "/api/v1/teams/{team}", {"team": {"description": "pwned"}}),
    ("DELETE", "/api/v1/teams/{team}", None),
    ("GET", "/api/v1/teams/{team}/members", None),
    ("GET", "/api/v1/teams/{team}/namespaces", None),
    ("POST", "/api/v1/teams/{team}/members", {"role": "owner", "user": "alice"}),
    ("PUT", "/api/v1/teams/{team}/members/{member}", {"role": "viewer"}),
    ("DELETE", "/api/v1/teams/{team}/members/{member}", None),
    ("GET", "/api/v1/namespaces/{namespace}", None),
    ("PUT", "/api/v1/namespaces/{namespace}", {"namespace": {"visibility": "public"}}),
    ("DELETE", "/api/v1/namespaces/{namespace}", None),
    ("GET", "/api/v1/namespaces/{namespace}/repositories", None),
])
def test_another_users_team_and_namespace(berth: Berth, bobs: dict[str, Any],
                                          method: str, path: str, body: Any) -> None:
    real = path.format(**bobs)
    fake = path.format(team=999999, namespace=999999, member=999999)
    resp = berth.catalog_call(method, real, headers=berth.as_("alice"), json=body)
    assert resp.status_code in (403, 404), resp.text
    if resp.status_code == 404:
        missing = berth.catalog_call(method, fake, headers=berth.as_("alice"), json=body)
        same_answer(resp, missing)
    # bob still owns and sees everything
    assert berth.catalog_call("GET", f"/api/v1/namespaces/{bobs['namespace']}",
                              headers=berth.as_("bob")).json()["visibility"] == "private"


def test_private_namespace_is_invisible_in_lists_and_search(berth: Berth,
                                                           bobs: dict[str, Any]) -> None:
    names = {n["name"] for n in berth.catalog_call(
        "GET", "/api/v1/namespaces", params={"all": "true"},
        headers=berth.as_("alice")).json()}
    assert "bobspace" not in names
    found = berth.catalog_call("GET", "/api/v1/search", params={"q": "bobspace"},
                               headers=berth.as_("alice")).json()
    assert found["namespaces"] == [] and found["totals"]["namespaces"] == 0


def test_wrong_password_and_unknown_user_answer_the_same(berth: Berth) -> None:
    wrong = berth.token_call("POST", "/api/v1/auth/token",
                             headers=basic("alice", "not-her-password"))
    unknown = berth.token_call("POST", "/api/v1/auth/token",
                               headers=basic("nobody-here", "not-her-password"))
    assert_error_shape(wrong, 401)
    same_answer(wrong, unknown)
    for path in ("/v2/token?service=x", "/api/v1/users"):
        a = berth.token_call("GET", path, headers=basic("alice", "nope"))
        b = berth.token_call("GET", path, headers=basic("nobody-here", "nope"))
        same_answer(a, b)


def test_anonymous_gets_401_not_a_hint(berth: Berth, bobs: dict[str, Any]) -> None:
    resp = berth.catalog_call("GET", f"/api/v1/namespaces/{bobs['namespace']}")
    missing = berth.catalog_call("GET", "/api/v1/namespaces/999999")
    assert resp.status_code in (401, 404)
    same_answer(resp, missing)
