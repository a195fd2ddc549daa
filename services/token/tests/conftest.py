"""Fixtures of the token service's tests: one app per test from create_app,
SQLite in memory (or a fresh MariaDB database), cheap argon2 parameters, a
table-driven authorizer standing in for the catalog."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from berth.common.bus import Bus
from berth.common.db import make_engine
from berth.common.signing import Signer, generate_key
from berth.common.testing import backend, mysql_database
from berth.token.app import create_app
from berth.token.config import TokenConfig, load_config
from berth.token.models import Base
from flask import Flask
from flask.testing import FlaskClient

sys.path.insert(0, str(Path(__file__).parent))

from token_helpers import CHEAP_HASHER, INTERNAL_SECRET, PASSWORD, TableAuthorizer


@pytest.fixture(scope="session")
def _shared_mysql() -> Iterator[str | None]:
    """One MariaDB database for the whole run (creating one per test is slow)."""
    if backend() != "mysql":
        yield None
        return
    with mysql_database("berth_token_test") as url:
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        yield url


@pytest.fixture
def database_url(_shared_mysql: str | None) -> Iterator[str]:
    """SQLite in memory, or the shared MariaDB database emptied after each test."""
    if _shared_mysql is None:
        yield "sqlite://"
        return
    yield _shared_mysql
    engine = make_engine(_shared_mysql)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


@pytest.fixture
def fresh_database_url() -> Iterator[str]:
    """A database of its own (for migration tests)."""
    if backend() != "mysql":
        yield "sqlite://"
        return
    with mysql_database("berth_token_mig") as url:
        yield url


@pytest.fixture(scope="session")
def rsa_key() -> Any:
    return generate_key("RS256")


@pytest.fixture(scope="session")
def ec_key() -> Any:
    return generate_key("ES256")


@pytest.fixture
def make_config(berth_home: Path, database_url: str,
                amqp_url: str) -> Callable[..., TokenConfig]:
    def make(**overrides: Any) -> TokenConfig:
        env = {"BERTH_HOME": str(berth_home), "BERTH_TOKEN_DATABASE_URL": database_url,
               "BERTH_AMQP_URL": amqp_url, "BERTH_INTERNAL_SECRET": INTERNAL_SECRET,
               "BERTH_TOKEN_ISSUER": "berth-test", "BERTH_LOG_LEVEL": "WARNING"}
        env.update({k: str(v) for k, v in overrides.items() if k.startswith("BERTH_")})
        return load_config(env, **{k: v for k, v in overrides.items()
                                   if not k.startswith("BERTH_")})
    return make


@pytest.fixture
def authorizer() -> TableAuthorizer:
    return TableAuthorizer()


@pytest.fixture(scope="session")
def shared_bus(amqp_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bus]:
    """One bus connection for the run: connecting and declaring the topology
    for every test would dominate the MariaDB + RabbitMQ run."""
    bus = Bus(amqp_url or None, tmp_path_factory.mktemp("bus"), "token")
    yield bus
    bus.close()


@pytest.fixture
def make_app(make_config: Callable[..., TokenConfig], rsa_key: Any,
             authorizer: TableAuthorizer, shared_bus: Bus) -> Iterator[Callable[..., Flask]]:
    apps: list[Flask] = []

    def make(signer: Signer | None = None, directory: Any = None,
             **overrides: Any) -> Flask:
        config = make_config(**overrides)
        app = create_app(config, signer=signer or Signer([rsa_key]),
                         authorizer=authorizer, hasher=CHEAP_HASHER,
                         directory=directory)
        app.config["TESTING"] = True
        runtime = app.extensions["berth.token"].runtime
        runtime.bus.close()
        runtime.bus = runtime.outbox.bus = shared_bus
        engine = app.extensions["berth.token"].runtime.engine
        Base.metadata.create_all(engine)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["berth.token"].runtime.engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., Any]:
    """Create a user directly through the service (no HTTP)."""

    def make(username: str, *, password: str | None = PASSWORD, admin: bool = False,
             bot: bool = False, enabled: bool = True, email: str | None = None) -> Any:
        svc = app.extensions["berth.token"]
        with svc.runtime.sessions() as session:
            user = svc.users.create(session, username=username,
                                    email=email or f"{username}@example.com",
                                    password=password, admin=admin, bot=bot)
            user.enabled = enabled
            session.commit()
            return user

    return make


@pytest.fixture
def make_token(app: Flask) -> Callable[..., str]:
    """Create an application token for a user; returns its plain value."""

    def make(user: Any, application: str = "ci") -> str:
        from berth.common.events.base import Actor

        svc = app.extensions["berth.token"]
        with svc.runtime.sessions() as session:
            _token, plain = svc.tokens.create(session, session.merge(user), application,
                                              actor=Actor.system())
            session.commit()
            return plain

    return make


