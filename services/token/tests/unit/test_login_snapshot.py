"""The steady-state login: one read, and the same answer as the full path for
everything that is not steady (revoked, disabled, locked, throttled, failures
to clear, first use)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from berth.common.events.base import Actor
from berth.token.models import ApplicationToken, LoginThrottle, User, utcnow
from berth.token.services import login_snapshot
from berth.token.services.app_tokens import TOUCH_INTERVAL
from berth.token.services.passwords import token_digest
from berth.token.services.throttle import account_key, address_key
from flask import Flask
from sqlalchemy import event, select, update
from token_helpers import PASSWORD, assert_error, basic

URL = "/v2/token?service=s&scope=repository:alice/app:pull"
CLIENT = {"REMOTE_ADDR": "203.0.113.9"}


@pytest.fixture
def alice(make_user, authorizer) -> User:
    authorizer.table[("alice", "alice/app")] = ("pull", "push")
    return make_user("alice")


@pytest.fixture
def statements(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every SQL statement the app runs from now on: through SQLAlchemy, and
    the snapshot's own query on the driver's cursor."""
    seen: list[str] = []
    engine = app.extensions["berth.token"].runtime.engine

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    real = login_snapshot._execute

    def snapshot(cursor: Any, sql: str, parameters: Any) -> Any:
        record(None, cursor, sql)
        return real(cursor, sql, parameters)

    monkeypatch.setattr(login_snapshot, "_execute", snapshot)
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def get(client: Any, user: str, secret: str) -> Any:
    return client.get(URL, headers=basic(user, secret), environ_base=CLIENT)


def test_a_recently_used_token_costs_one_select(client, alice, make_token,
                                                statements) -> None:
    token = make_token(alice)
    assert get(client, "alice", token).status_code == 200  # first use: touches
    assert "UPDATE" in statements
    statements.clear()
    resp = get(client, "alice", token)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert statements == ["SELECT"]


def test_a_cached_password_costs_one_select(client, alice, statements) -> None:
    assert get(client, "alice", PASSWORD).status_code == 200  # verifies, remembers
    statements.clear()
    assert get(client, "alice", PASSWORD).status_code == 200
    assert statements == ["SELECT"]


def test_a_revoked_token_is_refused_at_once(app, client, alice, make_token) -> None:
    token = make_token(alice)
    assert get(client, "alice", token).status_code == 200
    svc = app.extensions["berth.token"]
    with svc.runtime.sessions() as session:
        row = session.scalar(select(ApplicationToken))
        svc.tokens.destroy(session, row, actor=Actor.system())
        session.commit()
    assert_error(get(client, "alice", token), 401)


def test_a_disabled_user_is_refused_at_once(app, client, alice, make_token) -> None:
    token = make_token(alice)
    assert get(client, "alice", token).status_code == 200
    assert get(client, "alice", PASSWORD).status_code == 200
    with app.extensions["berth.token"].runtime.sessions() as session:
        session.execute(update(User).values(enabled=False))
        session.commit()
    assert_error(get(client, "alice", token), 401)
    assert_error(get(client, "alice", PASSWORD), 401)


def test_a_locked_account_refuses_a_recent_token(app, client, alice,
                                                  make_token) -> None:
    token = make_token(alice)
    assert get(client, "alice", token).status_code == 200
    with app.extensions["berth.token"].runtime.sessions() as session:
        session.add(LoginThrottle(key=account_key("alice"), failures=0,
                                  window_started_at=utcnow(), window_failures=0,
                                  locked_until=utcnow() + timedelta(minutes=5)))
        session.commit()
    assert_error(get(client, "alice", token), 401)


def test_a_throttled_address_refuses_a_recent_token(make_app, authorizer) -> None:
    app = make_app(BERTH_THROTTLE_ADDRESS_ATTEMPTS="3")
    client = app.test_client()
    svc = app.extensions["berth.token"]
    with svc.runtime.sessions() as session:
        user = svc.users.create(session, username="alice", email="a@example.com",
                                password=PASSWORD)
        _row, token = svc.tokens.create(session, user, "ci", actor=Actor.system())
        session.commit()
    authorizer.table[("alice", "alice/app")] = ("pull",)
    assert get(client, "alice", token).status_code == 200
    for name in ("x1", "x2", "x3"):
        assert_error(get(client, name, "wrong"), 401)
    assert_error(get(client, "alice", token), 429)
    # Another address is not throttled.
    other = client.get(URL, headers=basic("alice", token),
                       environ_base={"REMOTE_ADDR": "203.0.113.10"})
    assert other.status_code == 200


def test_a_success_after_failures_clears_them(app, client, alice, make_token) -> None:
    token = make_token(alice)
    assert get(client, "alice", token).status_code == 200
    assert_error(get(client, "alice", "wrong"), 401)
    assert get(client, "alice", token).status_code == 200
    with app.extensions["berth.token"].runtime.sessions() as session:
        assert session.scalar(select(LoginThrottle).where(
            LoginThrottle.key == account_key("alice"))) is None
        assert session.get(User, alice.id).failed_attempts == 0


def test_another_users_token_is_refused(client, alice, make_user, make_token) -> None:
    bob_token = make_token(make_user("bob"))
    assert get(client, "bob", bob_token).status_code == 200
    assert_error(get(client, "alice", bob_token), 401)


def test_a_stale_touch_is_written_again(app, client, alice, make_token,
                                        statements) -> None:
    token = make_token(alice)
    assert get(client, "alice", token).status_code == 200
    with app.extensions["berth.token"].runtime.sessions() as session:
        session.execute(update(ApplicationToken).values(
            last_used_at=utcnow() - TOUCH_INTERVAL - timedelta(seconds=1)))
        session.commit()
    statements.clear()
    assert get(client, "alice", token).status_code == 200
    assert "UPDATE" in statements
    with app.extensions["berth.token"].runtime.sessions() as session:
        used = session.scalar(select(ApplicationToken.last_used_at))
    assert used is not None and utcnow() - used < timedelta(seconds=5)


def test_the_snapshot_holds_the_rows_the_full_path_reads(app, alice,
                                                         make_token) -> None:
    token = make_token(alice)
    svc = app.extensions["berth.token"]
    now = utcnow().replace(microsecond=0)
    with svc.runtime.sessions() as session:
        session.add_all([
            LoginThrottle(key=account_key("alice"), failures=2, window_started_at=now,
                          window_failures=1, locked_until=None),
            LoginThrottle(key=address_key("203.0.113.9"), failures=7,
                          window_started_at=now, window_failures=4,
                          locked_until=None)])
        session.commit()
    engine = svc.runtime.engine
    snap = login_snapshot.read(
        engine, username="alice", digest=token_digest(token),
        account_key=account_key("alice"), address_key=address_key("203.0.113.9"))
    other = login_snapshot.read(
        engine, username="alice", digest=token_digest("not-a-token"),
        account_key=account_key("alice"), address_key=None)
    nobody = login_snapshot.read(
        engine, username="ghost", digest=token_digest(token),
        account_key=account_key("ghost"), address_key=None)
    assert snap is not None and other is not None and nobody is None
    assert snap.user_id == alice.id and snap.username == "alice"
    assert snap.enabled and not snap.admin and not snap.bot
    with svc.runtime.sessions() as session:
        stored = session.get(User, alice.id)
        assert snap.password_hash == stored.password_hash
        # What the full path reads (MySQL keeps whole seconds), so the password
        # cache's key is the same on both paths.
        assert snap.password_changed_at == stored.password_changed_at
    assert snap.token_id is not None and snap.token_last_used_at is None
    assert snap.account == login_snapshot.Counts(2, now, 1, None)
    assert snap.address == login_snapshot.Counts(7, now, 4, None)
    assert other.token_id is None and other.address is None
    assert other.account == snap.account


def test_a_driver_error_falls_back_to_the_full_path(app, client, alice, make_token,
                                                    monkeypatch) -> None:
    # An error under the snapshot's raw cursor is not a refusal and not a
    # 500: the full path answers, and a lost connection is not reused.
    token = make_token(alice)
    assert get(client, "alice", token).status_code == 200
    engine = app.extensions["berth.token"].runtime.engine
    dbapi = engine.dialect.loaded_dbapi
    if engine.dialect.name == "sqlite":
        error = dbapi.OperationalError("database is locked")
        lost_connection = False
    else:
        error = dbapi.OperationalError(2013, "Lost connection to server during query")
        lost_connection = True
    invalidated: list[Any] = []
    event.listen(engine, "invalidate", lambda *args: invalidated.append(args))

    def failing(*_args: Any) -> Any:
        raise error

    monkeypatch.setattr(login_snapshot, "_execute", failing)
    resp = get(client, "alice", token)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert bool(invalidated) == lost_connection
    assert get(client, "alice", "not-the-token").status_code == 401


def test_a_database_that_refuses_connections_is_a_503(app, client, alice, make_token,
                                                      monkeypatch) -> None:
    token = make_token(alice)
    engine = app.extensions["berth.token"].runtime.engine
    refused = engine.dialect.loaded_dbapi.OperationalError(2003, "Connection refused")

    def down() -> Any:
        raise refused

    monkeypatch.setattr(engine, "raw_connection", down)
    resp = get(client, "alice", token)
    assert_error(resp, 503)
