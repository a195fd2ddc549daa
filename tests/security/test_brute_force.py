"""Brute force: lockout and throttling hold across replicas (two token apps on
one database), and the throttled address is the real client's — a client
cannot pick its own with X-Forwarded-For."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from berth.common.signing import Signer, generate_key

from tests.security.conftest import basic, make_token_app, token_config

PASSWORD = "replica-password-1"


def replicas(tmp_path: Path, **env: str) -> list[Any]:
    """Two token apps sharing one SQLite file (one user, ``carol``)."""
    url = f"sqlite:///{tmp_path / 'token.sqlite'}"
    signer = Signer([generate_key("ES256")])
    apps = [make_token_app(token_config(tmp_path / f"home{i}", "http://127.0.0.1:9",
                                        "http://127.0.0.1:9", url, **env), signer)
            for i in range(2)]
    svc = apps[0].extensions["berth.token"]
    with svc.runtime.sessions() as session:
        svc.users.create(session, username="carol", email="carol@example.test",
                         password=PASSWORD)
        session.commit()
    return [app.test_client() for app in apps]


def login(client: Any, username: str, password: str, *,
          headers: dict[str, str] | None = None, **kw: Any) -> int:
    return int(client.post("/api/v1/auth/token",
                           headers={**basic(username, password), **(headers or {})},
                           **kw).status_code)


def test_lockout_holds_across_replicas(tmp_path: Path) -> None:
    a, b = replicas(tmp_path, BERTH_LOCKOUT_ATTEMPTS="4")
    for i in range(4):
        assert login((a, b)[i % 2], "carol", "wrong") == 401
    # locked: the right password fails on both replicas
    assert login(a, "carol", PASSWORD) == 401
    assert login(b, "carol", PASSWORD) == 401


def test_account_throttle_holds_across_replicas(tmp_path: Path) -> None:
    a, b = replicas(tmp_path, BERTH_THROTTLE_ACCOUNT_ATTEMPTS="3")
    statuses = [login((a, b)[i % 2], "carol", "wrong") for i in range(3)]
    assert statuses == [401, 401, 401]
    assert login(a, "carol", "wrong") == 429
    assert login(b, "carol", PASSWORD) == 429


def test_address_throttle_holds_across_replicas_and_accounts(tmp_path: Path) -> None:
    a, b = replicas(tmp_path, BERTH_THROTTLE_ADDRESS_ATTEMPTS="4")
    env = {"REMOTE_ADDR": "203.0.113.50"}
    for i in range(4):
        assert login((a, b)[i % 2], f"guess{i}", "wrong", environ_base=env) == 401
    assert login(b, "another", "wrong", environ_base=env) == 429
    # a different client is not affected
    assert login(a, "carol", PASSWORD, environ_base={"REMOTE_ADDR": "203.0.113.51"}) \
        == 200


@pytest.mark.parametrize(("remote", "spoof"), [
    ("203.0.113.60", lambda i: f"198.51.100.{i}"),  # exposed directly
    ("127.0.0.1", lambda i: f"198.51.100.{i}, 203.0.113.60"),  # behind the ingress
])
def test_spoofed_forwarded_for_does_not_dodge_the_throttle(tmp_path: Path, remote: str,
                                                           spoof: Any) -> None:
    a, b = replicas(tmp_path, BERTH_THROTTLE_ADDRESS_ATTEMPTS="3")
    for i in range(3):
        assert login((a, b)[i % 2], f"guess{i}", "wrong",
                     headers={"X-Forwarded-For": spoof(i)},
                     environ_base={"REMOTE_ADDR": remote}) == 401
    status = login(a, "guess9", "wrong", headers={"X-Forwarded-For": spoof(9)},
                   environ_base={"REMOTE_ADDR": remote})
    assert status == 429


def test_internal_principal_lookups_count_against_the_given_client(tmp_path: Path) -> None:
    a, _b = replicas(tmp_path, BERTH_THROTTLE_ADDRESS_ATTEMPTS="2",
                     BERTH_INTERNAL_SECRET="internal-security-secret")
    headers = {"X-Berth-Internal": "internal-security-secret"}
    for i in range(2):
        a.post("/internal/v1/principal", headers=headers, json={
            "username": f"g{i}", "secret": "wrong", "address": "203.0.113.70"})
    resp = a.post("/internal/v1/principal", headers=headers, json={
        "username": "carol", "secret": PASSWORD, "address": "203.0.113.70"})
    assert resp.status_code == 429
