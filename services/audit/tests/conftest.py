"""Fixtures of the audit service's tests: config, app, tokens, events."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from berth.audit.app import create_app
from berth.audit.config import AuditConfig
from berth.audit.memberships import StaticMemberships
from berth.audit.models import GENESIS_HASH, OUTBOX, AuditRecord, ChainHead
from berth.audit.schema import upgrade_engine
from berth.audit.services.recorder import append
from berth.common.auth import Authenticator, JwksKeys
from berth.common.config import Secret, load
from berth.common.db import make_engine
from berth.common.events.base import Envelope
from berth.common.runtime import Runtime, build_runtime
from berth.common.signing import Signer, generate_key
from berth.common.testing import backend, mysql_database

ISSUER = "berth-test"
INTERNAL = "internal-test-secret"
ANCHOR_KEY = "anchor-test-key"


@pytest.fixture(scope="session")
def signer() -> Signer:
    return Signer([generate_key("ES256")])


@pytest.fixture
def config(database_url: str, berth_home: Path) -> AuditConfig:
    return load(AuditConfig, {}, home=berth_home, database_url=database_url,
                anchor_key=Secret(ANCHOR_KEY), internal_secret=Secret(INTERNAL),
                token_issuer=ISSUER, log_level="WARNING")


@pytest.fixture(scope="session")
def shared_mysql_url() -> Iterator[str]:
    """One MariaDB database for the whole run, migrated once, emptied per test."""
    with mysql_database("berth_audit_test") as url:
        engine = make_engine(url)
        upgrade_engine(engine)
        engine.dispose()
        yield url


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """SQLite in memory, or the shared MariaDB database (emptied by ``runtime``)."""
    if backend() == "sqlite":
        return "sqlite://"
    url: str = request.getfixturevalue("shared_mysql_url")
    return url


def _empty(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in ("audit_records", "audit_retention_anchors", "processed_events",
                      "outbox"):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(update(ChainHead).values(last_seq=0, last_hash=GENESIS_HASH))


@pytest.fixture
def runtime(config: AuditConfig) -> Iterator[Runtime]:
    rt = build_runtime(config, service="audit", database_url=config.database_url,
                       outbox_table=OUTBOX)
    upgrade_engine(rt.engine)
    _empty(rt.engine)
    yield rt
    rt.bus.close()
    rt.engine.dispose()


@pytest.fixture
def sessions(runtime: Runtime) -> sessionmaker[Session]:
    return runtime.sessions


@pytest.fixture
def memberships() -> StaticMemberships:
    """What each user may see besides their own actions (tests set ``scopes``)."""
    return StaticMemberships()


@pytest.fixture
def app(config: AuditConfig, runtime: Runtime, signer: Signer,
        memberships: StaticMemberships) -> Flask:
    auth = Authenticator(keys=JwksKeys(static=signer.public_keys()), credentials=None,
                         internal_secret=INTERNAL, issuer=ISSUER)
    return create_app(config, authenticator=auth, runtime=runtime,
                      memberships=memberships)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(signer: Signer) -> Callable[..., dict[str, str]]:
    """Headers of a user: auth("alice", uid=2, admin=False)."""

    def make(username: str, *, uid: int = 1, admin: bool = False) -> dict[str, str]:
        token, _ = signer.sign({"sub": username, "uid": uid, "adm": admin,
                                "aud": "berth-api", "iss": ISSUER}, lifetime=300)
        return {"Authorization": f"Bearer {token}"}

    return make


def envelope(event_type: str, data: dict[str, Any] | None = None, *,
             actor: dict[str, Any] | None = None, event_id: str | None = None,
             occurred_at: datetime | None = None, producer: str = "catalog",
             correlation_id: str | None = None) -> Envelope:
    """An envelope as a producer would publish it."""
    when = occurred_at or datetime.now(UTC)
    return Envelope(
        id=event_id or uuid.uuid4().hex, type=event_type, version=1,
        occurred_at=when.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        producer=producer, correlation_id=correlation_id,
        actor=actor if actor is not None else {"id": None, "name": "system",
                                               "address": None},
        data=data or {})


@pytest.fixture
def make_envelope() -> Callable[..., Envelope]:
    """The envelope builder, for tests that publish or hand bodies over."""
    return envelope


@pytest.fixture
def record(sessions: sessionmaker[Session]) -> Callable[..., AuditRecord | None]:
    """Append one event (committed) and return its record."""

    def add(event_type: str, data: dict[str, Any] | None = None,
            **kw: Any) -> AuditRecord | None:
        with sessions() as session:
            rec = append(session, envelope(event_type, data, **kw))
            session.commit()
            return rec

    return add
