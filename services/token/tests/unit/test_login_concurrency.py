"""Concurrent logins on one embedded database from two processes' worth of
connection pools: first logins write (last sign-in, the login event), steady
ones only read; none may fail with a lock error."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from berth.common.testing import backend
from berth.token.models import User
from sqlalchemy import select
from token_helpers import PASSWORD

USERS = 12


def _basic(user: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


@pytest.mark.skipif(backend() != "sqlite", reason="SQLite's locking only")
def test_first_and_steady_logins_from_two_pools_never_fail(make_app: Any,
                                                           tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'token.sqlite'}"
    first, second = make_app(BERTH_TOKEN_DATABASE_URL=url), \
        make_app(BERTH_TOKEN_DATABASE_URL=url)
    svc = first.extensions["berth.token"]
    with svc.runtime.sessions() as session:
        for i in range(USERS):
            svc.users.create(session, username=f"user{i:02d}",
                             email=f"user{i:02d}@example.com", password=PASSWORD)
        session.commit()

    def logins(i: int) -> list[int]:
        client = (first if i % 2 else second).test_client()
        query = "/v2/token?service=registry.test&scope=repository:library/x:pull"
        headers = _basic(f"user{i:02d}", PASSWORD)
        return [client.get(query, headers=headers).status_code for _ in range(4)]

    with ThreadPoolExecutor(max_workers=USERS) as pool:
        statuses = [s for batch in pool.map(logins, range(USERS)) for s in batch]
    assert statuses == [200] * (USERS * 4)
    with svc.runtime.sessions() as session:
        signed_in = session.scalars(select(User.last_sign_in_at)).all()
    assert len(signed_in) == USERS and all(signed_in)


@pytest.mark.skipif(backend() != "sqlite", reason="SQLite's locking only")
def test_a_steady_login_does_not_wait_for_the_write_lock(make_app: Any,
                                                          tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "token.sqlite"
    app = make_app(BERTH_TOKEN_DATABASE_URL=f"sqlite:///{path}")
    svc = app.extensions["berth.token"]
    with svc.runtime.sessions() as session:
        svc.users.create(session, username="steady", email="steady@example.com",
                         password=PASSWORD)
        session.commit()
    client = app.test_client()
    query = "/v2/token?service=registry.test&scope=repository:steady/x:pull"
    headers = _basic("steady", PASSWORD)
    assert client.get(query, headers=headers).status_code == 200  # writes once
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process is writing, for long
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            steady = pool.submit(lambda: client.get(query, headers=headers).status_code)
            assert steady.result(timeout=3) == 200
    finally:
        writer.execute("ROLLBACK")
        writer.close()


class SlowCountingHasher:
    """Cheap argon2, slow enough that parallel logins overlap; counts verifies."""

    def __init__(self) -> None:
        from argon2 import PasswordHasher

        self.inner = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
        self.verifications = 0

    def hash(self, password: str) -> str:
        return self.inner.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        import time

        self.verifications += 1
        time.sleep(0.2)
        return self.inner.verify(password_hash, password)


@pytest.mark.skipif(backend() != "sqlite", reason="one embedded database file")
def test_parallel_first_logins_with_one_password_verify_it_once(
        make_config: Any, rsa_key: Any, authorizer: Any, tmp_path: Path) -> None:
    from berth.common.signing import Signer
    from berth.token.app import create_app
    from berth.token.models import Base

    hasher = SlowCountingHasher()
    config = make_config(BERTH_TOKEN_DATABASE_URL=f"sqlite:///{tmp_path / 't.sqlite'}")
    app = create_app(config, signer=Signer([rsa_key]), authorizer=authorizer,
                     hasher=hasher)  # type: ignore[arg-type]
    svc = app.extensions["berth.token"]
    Base.metadata.create_all(svc.runtime.engine)
    with svc.runtime.sessions() as session:
        svc.users.create(session, username="alice", email="a@example.com",
                         password=PASSWORD)
        session.commit()
    hasher.verifications = 0
    query = "/v2/token?service=registry.test&scope=repository:alice/x:pull"

    def login(secret: str) -> int:
        return app.test_client().get(query, headers=_basic("alice", secret)).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(login, [PASSWORD] * 8))
    assert statuses == [200] * 8
    assert hasher.verifications == 1
    # Wrong passwords are each checked for real, one after the other.
    with ThreadPoolExecutor(max_workers=3) as pool:
        assert list(pool.map(login, ["wrong"] * 3)) == [401] * 3
    assert hasher.verifications == 4
    assert svc.cache._inflight == {}  # nothing left behind
    svc.runtime.engine.dispose()
