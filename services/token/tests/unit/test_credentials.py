"""Throttling, lockout, the password cache and the events of logins."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from berth.token.models import User, utcnow
from token_helpers import CHEAP_HASHER, PASSWORD, assert_error, basic, internal

URL = "/v2/token?service=s"


class RecordingBus:
    def __init__(self) -> None:
        self.published: list[Any] = []

    def publish(self, envelopes: Any) -> None:
        self.published.extend(envelopes)

    def types(self) -> list[str]:
        return [e.type for e in self.published]


@pytest.fixture
def bus(app) -> RecordingBus:
    recorder = RecordingBus()
    app.extensions["berth.token"].runtime.outbox.bus = recorder
    return recorder


class CountingHasher(PasswordHasher):
    verifications = 0

    def verify(self, hash: Any, password: Any) -> bool:
        CountingHasher.verifications += 1
        return super().verify(hash, password)


def test_account_throttle_is_429_for_real_and_unknown_users(make_app, make_user) -> None:
    app = make_app(BERTH_THROTTLE_ACCOUNT_ATTEMPTS="3")
    client = app.test_client()
    svc = app.extensions["berth.token"]
    with svc.runtime.sessions() as session:
        svc.users.create(session, username="alice", email="a@example.com",
                         password=PASSWORD)
        session.commit()
    answers = {}
    for name in ("alice", "ghost"):
        for _ in range(3):
            assert_error(client.get(URL, headers=basic(name, "wrong")), 401)
        resp = client.get(URL, headers=basic(name, PASSWORD))
        assert_error(resp, 429)
        assert 1 <= int(resp.headers["Retry-After"]) <= 60
        answers[name] = resp.get_json()
    assert answers["alice"] == answers["ghost"]


def test_lockout_refuses_the_right_password_then_expires(make_app) -> None:
    app = make_app(BERTH_LOCKOUT_ATTEMPTS="3", BERTH_THROTTLE_ACCOUNT_ATTEMPTS="50")
    client = app.test_client()
    svc = app.extensions["berth.token"]
    with svc.runtime.sessions() as session:
        user = svc.users.create(session, username="alice", email="a@example.com",
                                password=PASSWORD)
        session.commit()
    for _ in range(3):
        client.get(URL, headers=basic("alice", "wrong"))
    locked = client.get(URL, headers=basic("alice", PASSWORD))
    wrong = client.get(URL, headers=basic("alice", "wrong"))
    assert_error(locked, 401)
    assert locked.get_json() == wrong.get_json()
    with svc.runtime.sessions() as session:
        row = session.get(User, user.id)
        assert row.locked_until is not None and row.locked_until > utcnow()
        from berth.token.models import LoginThrottle
        from sqlalchemy import update
        session.execute(update(LoginThrottle).values(
            locked_until=utcnow() - timedelta(seconds=1)))
        session.commit()
    assert client.get(URL, headers=basic("alice", PASSWORD)).status_code == 200


def test_unknown_users_lock_too(make_app) -> None:
    client = make_app(BERTH_LOCKOUT_ATTEMPTS="2",
                      BERTH_THROTTLE_ACCOUNT_ATTEMPTS="50").test_client()
    for _ in range(2):
        client.get(URL, headers=basic("ghost", "wrong"))
    assert_error(client.get(URL, headers=basic("ghost", "wrong")), 401)


def test_success_resets_the_account_counter(make_app) -> None:
    app = make_app(BERTH_THROTTLE_ACCOUNT_ATTEMPTS="3")
    client = app.test_client()
    svc = app.extensions["berth.token"]
    with svc.runtime.sessions() as session:
        svc.users.create(session, username="alice", email="a@example.com",
                         password=PASSWORD)
        session.commit()
    for _ in range(2):
        client.get(URL, headers=basic("alice", "wrong"))
    assert client.get(URL, headers=basic("alice", PASSWORD)).status_code == 200
    for _ in range(2):
        client.get(URL, headers=basic("alice", "wrong"))
    assert client.get(URL, headers=basic("alice", PASSWORD)).status_code == 200


def test_address_throttle_spans_accounts(make_app) -> None:
    client = make_app(BERTH_THROTTLE_ADDRESS_ATTEMPTS="3").test_client()
    for name in ("a1", "a2", "a3"):
        client.get(URL, headers=basic(name, "wrong"))
    assert_error(client.get(URL, headers=basic("a4", "wrong")), 429)


def test_password_cache_skips_argon2_in_the_steady_state(make_app, make_config,
                                                         rsa_key, authorizer) -> None:
    from berth.common.signing import Signer
    from berth.token.app import create_app
    from berth.token.models import Base

    hasher = CountingHasher(time_cost=1, memory_cost=64, parallelism=1)
    app = create_app(make_config(), signer=Signer([rsa_key]), authorizer=authorizer,
                     hasher=hasher)
    Base.metadata.create_all(app.extensions["berth.token"].runtime.engine)
    svc = app.extensions["berth.token"]
    with svc.runtime.sessions() as session:
        user = svc.users.create(session, username="alice", email="a@example.com",
                                password=PASSWORD)
        session.commit()
    client = app.test_client()
    CountingHasher.verifications = 0
    for _ in range(5):
        assert client.get(URL, headers=basic("alice", PASSWORD)).status_code == 200
    assert CountingHasher.verifications == 1
    # a wrong password is always checked for real
    client.get(URL, headers=basic("alice", "wrong"))
    assert CountingHasher.verifications == 2
    # a password change (seen through the row) invalidates the entry
    with svc.runtime.sessions() as session:
        row = session.get(User, user.id)
        row.password_hash = CHEAP_HASHER.hash(PASSWORD)
        row.password_changed_at = utcnow()
        session.commit()
    assert client.get(URL, headers=basic("alice", PASSWORD)).status_code == 200
    assert CountingHasher.verifications == 3
    svc.runtime.engine.dispose()


def test_cache_off_verifies_every_time(make_app) -> None:
    from berth.token.services.passwords import VerificationCache

    cache = VerificationCache(ttl=0)
    cache.remember(1, "pw", "h", None)
    assert not cache.hit(1, "pw", "h", None)
    cache = VerificationCache(ttl=60)
    cache.remember(1, "pw", "h", None)
    assert cache.hit(1, "pw", "h", None) and not cache.hit(1, "pw2", "h", None)
    assert not cache.hit(2, "pw", "h", None) and not cache.hit(1, "pw", "h2", None)
    cache.forget_user(1)
    assert not cache.hit(1, "pw", "h", None)


def test_login_events(client, make_user, bus) -> None:
    make_user("alice")
    client.get(URL, headers=basic("alice", "wrong"), environ_base={
        "REMOTE_ADDR": "10.1.2.3"})
    client.get(URL, headers=basic("alice", PASSWORD))
    failed = next(e for e in bus.published if e.type == "identity.login.failed")
    assert failed.data["reason"] == "bad_credentials"
    assert failed.data["address"] == "10.1.2.3" and failed.data["client"] == "registry"
    assert "identity.login.succeeded" in bus.types()
    # a cached success writes nothing and publishes nothing
    before = len(bus.published)
    client.get(URL, headers=basic("alice", PASSWORD))
    assert len(bus.published) == before


def test_user_and_token_events(client, make_user, bus) -> None:
    admin = make_user("admin", admin=True)
    headers = {"Portus-Auth": f"admin:{PASSWORD}"}
    created = client.post("/api/v1/users", headers=headers, json={"user": {
        "username": "bob", "email": "bob@example.com", "password": "long enough"}})
    bob = created.get_json()["id"]
    client.put(f"/api/v1/users/{bob}", headers=headers, json={"user": {"enabled": False}})
    token = client.post(f"/api/v1/users/{admin.id}/application_tokens", headers=headers,
                        json={"application": "ci"}).get_json()
    client.delete(f"/api/v1/users/application_tokens/{token['id']}", headers=headers)
    client.delete(f"/api/v1/users/{bob}", headers=headers)
    types = bus.types()
    for expected in ("identity.user.created", "identity.user.updated",
                     "identity.application_token.created",
                     "identity.application_token.destroyed", "identity.user.deleted"):
        assert expected in types
    updated = next(e for e in bus.published if e.type == "identity.user.updated")
    assert updated.data["changes"] == ["enabled"] and updated.actor["name"] == "admin"
    assert updated.data["bot"] is False and updated.data["email"] == "bob@example.com"
    assert updated.data["enabled"] is False


def test_rolled_back_changes_publish_nothing(client, make_user, bus) -> None:
    make_user("admin", admin=True)
    before = len(bus.published)
    resp = client.post("/api/v1/users", headers={"Portus-Auth": f"admin:{PASSWORD}"},
                       json={"user": {"username": "admin", "email": "x@example.com",
                                      "password": "long enough"}})
    assert resp.status_code == 422
    assert [t for t in bus.types()[before:] if t.startswith("identity.user")] == []


def test_internal_principal_counts_failures_by_the_given_address(app, client,
                                                                  make_user) -> None:
    from berth.token.models import LoginThrottle
    from sqlalchemy import select

    make_user("alice")
    resp = client.post("/internal/v1/principal", headers=internal(), json={
        "username": "alice", "secret": "wrong", "address": "192.0.2.1"})
    assert_error(resp, 401)
    with app.extensions["berth.token"].runtime.sessions() as session:
        keys = set(session.scalars(select(LoginThrottle.key)).all())
    assert keys == {"account:alice", "address:192.0.2.1"}


@pytest.mark.parametrize(("proxies", "expected"), [("127.0.0.0/8", "address:203.0.113.7"),
                                                   ("", "address:127.0.0.1")])
def test_client_address_comes_from_the_trusted_proxy(make_app, proxies, expected) -> None:
    from berth.token.models import LoginThrottle
    from sqlalchemy import select

    app = make_app(BERTH_TRUSTED_PROXIES=proxies)
    app.test_client().get(URL, headers={**basic("x", "wrong"),
                                        "X-Forwarded-For": "198.51.100.1, 203.0.113.7"})
    with app.extensions["berth.token"].runtime.sessions() as session:
        keys = set(session.scalars(select(LoginThrottle.key)).all())
    assert keys == {"account:x", expected}


def test_client_cannot_pick_its_address_when_not_behind_a_trusted_proxy(make_app) -> None:
    from berth.token.models import LoginThrottle
    from sqlalchemy import select

    app = make_app()
    app.test_client().get(URL, headers={**basic("x", "wrong"),
                                        "X-Forwarded-For": "198.51.100.1"},
                          environ_base={"REMOTE_ADDR": "203.0.113.7"})
    with app.extensions["berth.token"].runtime.sessions() as session:
        keys = set(session.scalars(select(LoginThrottle.key)).all())
    assert keys == {"account:x", "address:203.0.113.7"}


def test_admin_unlocks_with_enabled_true(make_app) -> None:
    app = make_app(BERTH_LOCKOUT_ATTEMPTS="2", BERTH_THROTTLE_ACCOUNT_ATTEMPTS="50")
    client = app.test_client()
    svc = app.extensions["berth.token"]
    with svc.runtime.sessions() as session:
        svc.users.create(session, username="root", email="r@example.com",
                         password=PASSWORD, admin=True)
        alice = svc.users.create(session, username="alice", email="a@example.com",
                                 password=PASSWORD)
        session.commit()
    for _ in range(2):
        client.get(URL, headers=basic("alice", "wrong"))
    assert_error(client.get(URL, headers=basic("alice", PASSWORD)), 401)
    shown = client.get(f"/api/v1/users/{alice.id}",
                       headers={"Portus-Auth": f"root:{PASSWORD}"}).get_json()
    assert shown["locked_at"] is not None
    resp = client.put(f"/api/v1/users/{alice.id}", json={"user": {"enabled": True}},
                      headers={"Portus-Auth": f"root:{PASSWORD}"})
    assert resp.status_code == 200 and resp.get_json()["locked_at"] is None
    assert client.get(URL, headers=basic("alice", PASSWORD)).status_code == 200


def test_password_cache_misses_for_users_it_holds_nothing_for() -> None:
    from berth.token.services.passwords import VerificationCache

    cache = VerificationCache(ttl=60, max_entries=2)
    when = utcnow()
    cache.remember(1, "pw-one", "hash1", when)
    assert cache.hit(1, "pw-one", "hash1", when)
    assert not cache.hit(2, "pw-one", "hash1", when)
    assert not cache.hit(1, "pw-two", "hash1", when)
    cache.remember(2, "pw-two", "hash2", when)
    cache.remember(3, "pw-three", "hash3", when)  # full: purged, then kept
    assert cache.hit(3, "pw-three", "hash3", when)
    cache.forget_user(3)
    assert not cache.hit(3, "pw-three", "hash3", when)
    cache.remember(3, "pw-three", "hash3", when)
    assert cache.hit(3, "pw-three", "hash3", when)
