"""Brute force and credential caching on the API paths: ``POST /api/v1/auth/token``
and ``Portus-Auth`` through the catalog, whose credential cache keeps a success
(never a failure) for ``RemoteCredentials.ttl`` = 30 s per process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.security.conftest import Berth, assert_error_shape, basic

LOCKOUT = 3
DOCUMENTED_TTL = 30.0


@pytest.fixture(scope="module")
def locking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Berth]:
    """Token + catalog locking an account after three wrong passwords."""
    b = Berth(tmp_path_factory.mktemp("portus-auth") / "home",
              BERTH_LOCKOUT_ATTEMPTS=str(LOCKOUT))
    b.sign_up("root")
    yield b
    b.stop()


def portus(b: Berth, username: str, secret: str) -> Any:
    return b.catalog_call("GET", "/api/v1/namespaces",
                          headers={"Portus-Auth": f"{username}:{secret}"})


def credentials(b: Berth) -> Any:
    """The catalog's credential resolver (its cache)."""
    return b.catalog.extensions["berth.authenticator"].credentials


def expire_cache(b: Berth) -> None:
    """Move every cached success ``ttl`` seconds into the past."""
    creds = credentials(b)
    creds._cache = {k: (until - creds.ttl, p) for k, (until, p) in creds._cache.items()}


def test_the_cache_lifetime_is_the_documented_one(locking: Berth) -> None:
    assert credentials(locking).ttl == DOCUMENTED_TTL


def test_a_wrong_password_is_never_cached_as_valid(locking: Berth) -> None:
    locking.sign_up("frank")
    right = "frank-password-1"
    for secret in ("wrong-1", right, "wrong-2", right + "x", right[:-1], right):
        resp = portus(locking, "frank", secret)
        if secret == right:
            assert resp.status_code == 200, resp.text
        else:
            assert_error_shape(resp, 401)
    # another user's name with frank's (cached) password is no hit either
    assert_error_shape(portus(locking, "root", right), 401)


def test_lockout_holds_through_portus_auth_and_the_api_path(locking: Berth) -> None:
    locking.sign_up("gina")
    for _ in range(LOCKOUT):
        assert_error_shape(portus(locking, "gina", "wrong"), 401)
    # locked: the right password fails on every path, with the same answer
    locked = [portus(locking, "gina", "gina-password-1"),
              locking.token_call("POST", "/api/v1/auth/token",
                                 headers=basic("gina", "gina-password-1")),
              locking.registry_token("gina")]
    for resp in locked:
        assert_error_shape(resp, 401)
    assert locked[0].json() == portus(locking, "gina", "wrong").json()


def test_lockout_counts_api_path_failures_for_portus_auth(locking: Berth) -> None:
    locking.sign_up("hank")
    for _ in range(LOCKOUT):
        assert_error_shape(locking.token_call(
            "POST", "/api/v1/auth/token", json={
                "grant_type": "password", "username": "hank", "password": "x"}), 401)
    assert_error_shape(portus(locking, "hank", "hank-password-1"), 401)


@pytest.mark.parametrize("how", ["disable", "lock"])
def test_a_cached_success_ends_within_the_ttl(locking: Berth, how: str) -> None:
    name = f"ivy{how}"
    user = locking.sign_up(name)
    right = f"{name}-password-1"
    assert portus(locking, name, right).status_code == 200          # now cached
    if how == "disable":
        resp = locking.token_call("PUT", f"/api/v1/users/{user['id']}",
                                  headers=locking.as_("root"),
                                  json={"user": {"enabled": False}})
        assert resp.status_code == 200, resp.text
    else:
        for _ in range(LOCKOUT):
            assert_error_shape(portus(locking, name, "wrong"), 401)
    # the token service refuses at once...
    assert_error_shape(locking.token_call("POST", "/api/v1/auth/token",
                                          headers=basic(name, right)), 401)
    # ...the catalog's cached success lasts at most the TTL (documented window)
    assert portus(locking, name, right).status_code == 200
    expire_cache(locking)
    assert_error_shape(portus(locking, name, right), 401)


def test_malformed_portus_auth_is_a_401_not_an_outage(locking: Berth) -> None:
    jwt_like = locking.jwt("root")
    for username, secret in (("x" * 300, "pw"), (jwt_like, "pw"), ("root", "p" * 5000),
                             ("ro ot", "pw"), ("root\t", "pw")):
        assert_error_shape(portus(locking, username, secret), 401)


@pytest.fixture(scope="module")
def throttling(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Berth]:
    """Token + catalog throttling an address after three failures."""
    b = Berth(tmp_path_factory.mktemp("portus-throttle") / "home",
              BERTH_THROTTLE_ADDRESS_ATTEMPTS="3")
    b.sign_up("root")
    yield b
    b.stop()


def test_the_address_throttle_holds_through_portus_auth(throttling: Berth) -> None:
    # The catalog is reached from loopback (a trusted proxy, as the ingress is),
    # so it takes the client from X-Forwarded-For and passes it on.
    client = {"X-Forwarded-For": "203.0.113.80"}
    for i in range(3):
        resp = throttling.catalog_call("GET", "/api/v1/namespaces", headers={
            "Portus-Auth": f"guess{i}:wrong", **client})
        assert_error_shape(resp, 401)
    blocked = throttling.catalog_call("GET", "/api/v1/namespaces", headers={
        "Portus-Auth": "root:root-password-1", **client})
    body = assert_error_shape(blocked, 401)
    assert "too many" in body["message"]
    # the same credentials from another client still work
    assert throttling.catalog_call("GET", "/api/v1/namespaces", headers={
        "Portus-Auth": "root:root-password-1",
        "X-Forwarded-For": "203.0.113.81"}).status_code == 200
