"""Fixtures of the catalog's tests: one app per test from ``create_app(config)``,
SQLite in memory (or one shared MariaDB database, emptied between tests), a
recording bus, an in-test registry, and JWTs signed with a test key."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from berth.catalog.app import create_app
from berth.catalog.config import CatalogConfig
from berth.catalog.consumers import CONSUMER, make_handler
from berth.catalog.models import PROCESSED, Base
from berth.catalog.runtime import default_registry_spec
from berth.catalog.services.registries import ensure_registry
from berth.catalog.services.registry_ops import ManifestGone, RegistryDown
from berth.catalog.services.users import ensure_user_everywhere, upsert_user
from berth.common.auth import API_AUDIENCE, Authenticator, JwksKeys, Principal
from berth.common.config import load
from berth.common.consumer import ConsumerWorker
from berth.common.db import transaction
from berth.common.events.base import Envelope
from berth.common.events.registry import ManifestPushed
from berth.common.migrations import upgrade
from berth.common.signing import Signer, generate_key
from berth.common.testing import backend, mysql_database
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, delete

MIGRATIONS = (Path(__file__).parents[1] / "src" / "berth" / "catalog" / "migrations")
INTERNAL_SECRET = "internal-test-secret"
ISSUER = "berth-test"
SERVICE = "registry.test:5000"


class RecordingBus:
    """Stands in for the bus: keeps what was published."""

    embedded = True

    def __init__(self) -> None:
        self.published: list[Envelope] = []

    def publish(self, envelopes: Any) -> None:
        self.published.extend(envelopes)

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None

    def dead_letter(self, consumer: str, body: Any, reason: str) -> None:
        return None

    def types(self) -> list[str]:
        return [e.type for e in self.published]


@dataclass
class FakeRegistry:
    """An in-test RegistryOperations: remembers deletes, can fail on demand."""

    deleted: list[tuple[str, str, str]] = field(default_factory=list)
    down: bool = False
    gone: bool = False

    def delete_manifest(self, registry: str, repository: str, digest: str) -> None:
        if self.down:
            raise RegistryDown("test: registry down")
        if self.gone:
            raise ManifestGone(digest)
        self.deleted.append((registry, repository, digest))


@pytest.fixture(scope="session")
def signer() -> Signer:
    return Signer([generate_key("RS256")])


@pytest.fixture(scope="session")
def shared_mysql() -> Iterator[str | None]:
    """One migrated MariaDB database for the whole run (mysql backend only)."""
    if backend() != "mysql":
        yield None
        return
    with mysql_database("berth_catalog_test") as url:
        engine = create_engine(url)
        upgrade(MIGRATIONS, engine, "catalog")
        engine.dispose()
        yield url


def _empty(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    engine.dispose()


@pytest.fixture
def db_url(shared_mysql: str | None) -> Iterator[str]:
    if shared_mysql is None:
        yield "sqlite://"
        return
    _empty(shared_mysql)
    yield shared_mysql


class TableDirectory:
    """The token service's user lookup, as a table tests fill."""

    def __init__(self) -> None:
        self.users: dict[str, Any] = {}

    def __call__(self, username: str) -> Any:
        return self.users.get(username)


@dataclass
class World:
    """One app under test and the handles tests use."""

    app: Flask
    client: FlaskClient
    bus: RecordingBus
    registry: FakeRegistry
    signer: Signer
    ids: itertools.count  # type: ignore[type-arg]
    directory: TableDirectory = field(default_factory=TableDirectory)

    def session(self) -> Any:
        return self.app.extensions["berth.sessionmaker"]()

    def token(self, username: str, uid: int, admin: bool = False,
              bot: bool = False) -> str:
        tok, _ = self.signer.sign({"sub": username, "uid": uid, "adm": admin,
                                   "bot": bot, "aud": API_AUDIENCE, "iss": ISSUER},
                                  lifetime=300)
        return tok

    def user(self, username: str, admin: bool = False, enabled: bool = True,
             bot: bool = False) -> User:
        uid = next(self.ids)
        with self.session() as s:
            row = upsert_user(s, uid, username, admin=admin, enabled=enabled, bot=bot)
            ensure_user_everywhere(s, row)
            s.commit()
        return User(self, uid, username, admin, bot)

    def internal(self) -> dict[str, str]:
        return {"X-Berth-Internal": INTERNAL_SECRET}

    def deliver(self, event: Any, actor: Any = None, event_id: str | None = None,
                occurred_at: Any = None) -> str:
        """Run one event through the catalog's consumer, as the worker does."""
        state = self.app.extensions["berth.catalog"]
        env = Envelope.wrap(event, producer="syncer", actor=actor, event_id=event_id,
                            occurred_at=occurred_at)
        worker = ConsumerWorker(bus=self.bus,  # type: ignore[arg-type]
                                name=CONSUMER,
                                handler=make_handler(state.runtime.outbox, state.knobs),
                                factory=state.runtime.sessions, processed=PROCESSED)
        return worker.handle_body(env.to_json())

    def push(self, repository: str, tag: str | None = "latest",
             digest: str = "sha256:" + "a" * 64, actor: str | None = None,
             **kw: Any) -> str:
        """A registry push notification for ``repository:tag``."""
        return self.deliver(ManifestPushed(
            registry=SERVICE, repository=repository, digest=digest, tag=tag,
            media_type="application/vnd.oci.image.manifest.v1+json", size=1234,
            actor=actor), **kw)

    def team(self, owner: User, name: str, **members: str) -> int:
        """Create a team owned by ``owner`` and add members (username=role)."""
        resp = owner.post("/api/v1/teams", json={"name": name})
        assert resp.status_code == 201, resp.get_json()
        team_id: int = resp.get_json()["id"]
        for username, role in members.items():
            r = owner.post(f"/api/v1/teams/{team_id}/members",
                           json={"user": username, "role": role})
            assert r.status_code == 201, r.get_json()
        return team_id

    def namespace(self, owner: User, name: str, team: str,
                  visibility: str = "private") -> int:
        resp = owner.post("/api/v1/namespaces", json={
            "name": name, "team": team, "visibility": visibility})
        assert resp.status_code == 201, resp.get_json()
        ns_id: int = resp.get_json()["id"]
        return ns_id

    def repo_id(self, full_name: str) -> int:
        """Id of a repository (looked up as the service principal)."""
        resp = self.client.get("/api/v1/repositories?all=true", headers=self.internal())
        for repo in resp.get_json():
            if repo["full_name"] == full_name:
                return int(repo["id"])
        raise AssertionError(f"no repository {full_name}")


@dataclass
class User:
    """A test user with helpers to call the API as them."""

    world: World
    id: int
    username: str
    admin: bool = False
    bot: bool = False

    @property
    def headers(self) -> dict[str, str]:
        tok = self.world.token(self.username, self.id, self.admin, self.bot)
        return {"Authorization": f"Bearer {tok}"}

    def principal(self) -> dict[str, Any]:
        return Principal(id=self.id, username=self.username, admin=self.admin,
                         kind="bot" if self.bot else "user").to_dict()

    def get(self, path: str, **kw: Any) -> Any:
        return self.world.client.get(path, headers=self.headers, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.world.client.post(path, headers=self.headers, **kw)

    def put(self, path: str, **kw: Any) -> Any:
        return self.world.client.put(path, headers=self.headers, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.world.client.delete(path, headers=self.headers, **kw)


def make_config(db_url: str, home: Path, **overrides: Any) -> CatalogConfig:
    env = {"BERTH_HOME": str(home), "BERTH_INTERNAL_SECRET": INTERNAL_SECRET,
           "BERTH_TOKEN_ISSUER": ISSUER, "BERTH_REGISTRY_SERVICE": SERVICE,
           "BERTH_REGISTRY_HOSTNAME": SERVICE,
           "BERTH_REGISTRY_NOTIFICATION_SECRET": "notify-secret"}
    return load(CatalogConfig, env, database_url=db_url, **overrides)


@pytest.fixture(scope="session")
def app_cache() -> Iterator[dict[Any, tuple[Flask, RecordingBus, FakeRegistry]]]:
    """Apps by (database, overrides): building one costs more than a test."""
    cache: dict[Any, tuple[Flask, RecordingBus, FakeRegistry]] = {}
    yield cache
    for app, _, _ in cache.values():
        app.extensions["berth.catalog"].runtime.engine.dispose()


def _reset(app: Flask) -> None:
    """Empty the app's database and ensure the default registry again."""
    state = app.extensions["berth.catalog"]
    with state.runtime.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    with transaction(state.runtime.sessions) as session:
        ensure_registry(session, default_registry_spec(state.config))


@pytest.fixture
def make_world(db_url: str, tmp_path: Path, signer: Signer,
               app_cache: dict[Any, tuple[Flask, RecordingBus, FakeRegistry]],
               ) -> Iterator[Any]:
    """Build a world; ``new_app=True`` for a test that changes the app itself.
    Every world starts from an empty database with the default registry."""
    own: list[Flask] = []

    def build(new_app: bool = False, **overrides: Any) -> World:
        key = (db_url, tuple(sorted(overrides.items())))
        if not new_app and key in app_cache:
            app, bus, reg = app_cache[key]
            _reset(app)
            bus.published.clear()
            reg.deleted.clear()
            reg.down = reg.gone = False
        else:
            if not db_url.startswith("sqlite"):
                _empty(db_url)
            config = make_config(db_url, tmp_path, **overrides)
            bus, reg = RecordingBus(), FakeRegistry()
            auth = Authenticator(keys=JwksKeys(static=signer.public_keys()),
                                 credentials=lambda u, s, a: None,
                                 internal_secret=INTERNAL_SECRET, issuer=ISSUER)
            app = create_app(config, authenticator=auth, registry_ops=reg,
                             lookup_user=TableDirectory(),
                             bus=bus,  # type: ignore[arg-type]
                             create_schema=db_url.startswith("sqlite"))
            app.config["TESTING"] = True
            if new_app:
                own.append(app)
            else:
                app_cache[key] = (app, bus, reg)
        directory = app.extensions["berth.catalog"].lookup_user
        directory.users.clear()
        return World(app, app.test_client(), bus, reg, signer, itertools.count(100),
                     directory)

    yield build
    for app in own:
        app.extensions["berth.catalog"].runtime.engine.dispose()


@pytest.fixture
def world(make_world: Any) -> World:
    return make_world()
