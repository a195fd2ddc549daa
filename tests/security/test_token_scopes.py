"""Registry token scope escalation, checked on the ``access`` claim of the JWT
actually issued (decoded with the token service's public key)."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
import requests
from berth.common.signing import keys_from_jwks

from tests.security.conftest import ISSUER, REGISTRY, Berth, assert_error_shape


def access_of(berth: Berth, resp: requests.Response,
              audience: str | None = REGISTRY) -> list[dict[str, Any]]:
    """The ``access`` claim of the token in ``resp``, its signature verified
    with the token service's published keys."""
    token = resp.json()["token"]
    header = jwt.get_unverified_header(token)
    keys = keys_from_jwks(berth.token_call("GET", "/.well-known/jwks.json").json())
    claims = jwt.decode(token, keys[header["kid"]], algorithms=[header["alg"]],
                        audience=audience, issuer=ISSUER,
                        options={"verify_aud": audience is not None})
    return list(claims["access"])


def actions(berth: Berth, resp: requests.Response, name: str) -> set[str]:
    """Granted actions on repository ``name``."""
    assert resp.status_code == 200, resp.text
    return {a for s in access_of(berth, resp) if s["name"] == name
            for a in s["actions"]}


@pytest.mark.parametrize("scope", [
    "repository:bob/app:pull,push",
    "repository:bob/app:*",
    "repository:bob/app:*,push",
    "repository:bob/app:push,*",
    "repository:bob/app:push,push,push",
    "repository:bob/app:delete",
])
def test_another_users_private_namespace_grants_nothing(berth: Berth, scope: str) -> None:
    assert actions(berth, berth.registry_token("alice", scope), "bob/app") == set()


def test_own_namespace_is_granted_but_star_needs_every_action(berth: Berth) -> None:
    resp = berth.registry_token("alice", "repository:alice/app:pull,push")
    assert actions(berth, resp, "alice/app") == {"pull", "push"}
    # Portus checked only the first action of "*,push"; here * means all of them.
    for scope in ("repository:busybox:*,push", "repository:busybox:push,*",
                  "repository:busybox:*"):
        got = actions(berth, berth.registry_token("alice", scope), "busybox")
        assert "*" not in got and "push" not in got


def test_repeated_scopes_merge_and_never_widen(berth: Berth) -> None:
    resp = berth.registry_token("alice", "repository:bob/app:pull",
                                "repository:bob/app:push", "repository:bob/app:*")
    assert actions(berth, resp, "bob/app") == set()
    assert len([s for s in access_of(berth, resp) if s["name"] == "bob/app"]) <= 1


@pytest.mark.parametrize("scope", [
    "repository:BOB/app:push", "Repository:bob/app:push", "repository:bob/app:PUSH",
    "repository:alice/../bob/app:push", "repository:alice/%2e%2e/bob:push",
    "repository:alice%2fbob:push", "repository:alice/app/:push",
    "repository:/bob/app:push", "repository:bob/app", "repository(Plugin):bob/app:push",
    "registry:catalog(x):*", "registry:everything:*", "blob:bob/app:push",
    "repository:bob/app :push", "repository:bob\u0000/app:push",
])
def test_malformed_or_tricky_scopes_fail_the_whole_request(berth: Berth,
                                                           scope: str) -> None:
    resp = berth.registry_token("alice", "repository:alice/app:pull", scope)
    assert resp.status_code in (400, 401), resp.text
    assert "token" not in resp.json()


def test_plugin_class_syntax_grants_nothing_more(berth: Berth) -> None:
    resp = berth.registry_token("alice", "repository(plugin):bob/app:pull,push")
    assert resp.status_code in (200, 400)
    if resp.status_code == 200:
        assert actions(berth, resp, "bob/app") == set()


def test_catalog_listing_is_for_admins_only(berth: Berth) -> None:
    assert actions(berth, berth.registry_token("alice", "registry:catalog:*"), "catalog") == set()
    assert actions(berth, berth.registry_token("root", "registry:catalog:*"), "catalog") == {"*"}


def test_mismatched_account_is_refused(berth: Berth) -> None:
    resp = berth.registry_token("alice", "repository:bob/app:pull", account="bob")
    assert_error_shape(resp, 401)
    resp = berth.registry_token(None, "repository:bob/app:pull", account="bob")
    assert_error_shape(resp, 401)


def test_subject_is_who_authenticated(berth: Berth) -> None:
    resp = berth.registry_token("alice", "repository:alice/app:pull", account="alice")
    token = resp.json()["token"]
    assert jwt.decode(token, options={"verify_signature": False})["sub"] == "alice"


def test_unknown_service_grants_nothing(berth: Berth) -> None:
    resp = berth.registry_token("root", "repository:alice/app:pull,push",
                                "registry:catalog:*", service="evil.example:5000")
    if resp.status_code == 200:
        assert all(not s["actions"] for s in access_of(berth, resp, audience=None))
    else:
        assert resp.status_code in (400, 401)


def test_anonymous_gets_nothing_private(berth: Berth) -> None:
    assert actions(berth, berth.registry_token(None, "repository:alice/app:pull"),
                   "alice/app") == set()


def test_oauth2_post_applies_the_same_rules(berth: Berth) -> None:
    resp = berth.token_call("POST", "/v2/token", data={
        "grant_type": "password", "username": "alice", "password": "alice-password-1",
        "service": REGISTRY, "scope": "repository:bob/app:*,push repository:alice/x:push"})
    assert resp.status_code == 200, resp.text
    granted = {s["name"]: set(s["actions"]) for s in access_of(berth, resp)}
    assert granted.get("bob/app", set()) == set()
    assert granted["alice/x"] == {"push"}
