"""Fixtures of the syncer's tests: config, a migrated database, the app, and
the notification relay the real registry posts to."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from berth.common.auth import Authenticator, JwksKeys
from berth.common.bus import Bus
from berth.common.db import make_engine, make_sessionmaker
from berth.common.migrations import upgrade
from berth.common.outbox import Outbox
from berth.common.runtime import Runtime
from berth.common.testing import backend, mysql_database
from berth.syncer.__main__ import MIGRATIONS
from berth.syncer.app import create_app
from berth.syncer.config import SyncerConfig, load_config
from berth.syncer.models import OUTBOX, Base
from berth.syncer.registries import RegistryDirectory
from berth.syncer.wiring import ClientPool, default_registry
from syncer_testing import (
    INTERNAL_SECRET,
    ISSUER,
    NOTIFY_SECRET,
    SIGNER,
    Relay,
)


@pytest.fixture(scope="session")
def relay() -> Iterator[Relay]:
    r = Relay()
    r.thread.start()
    yield r
    r.server.shutdown()


@pytest.fixture(scope="session")
def shared_mysql() -> Iterator[str | None]:
    """On MySQL runs, one migrated database for the session (emptied after each
    test): creating and migrating one per test would dominate the run time."""
    if backend() != "mysql":
        yield None
        return
    with mysql_database("berth_syncer_test") as url:
        engine = make_engine(url)
        upgrade(MIGRATIONS, engine, "syncer")
        engine.dispose()
        yield url


@pytest.fixture
def config(berth_home: Path, shared_mysql: str | None, amqp_url: str) -> SyncerConfig:
    return load_config(
        {"BERTH_HOME": str(berth_home)},
        # A SQLite file, not memory: the app serves notifications and runs
        # reconciles in other threads, and an in-memory database is one
        # connection shared by all of them (one thread's rollback undoes
        # another's work).
        database_url=shared_mysql or f"sqlite:///{berth_home / 'syncer.sqlite'}",
        amqp_url=amqp_url,
        internal_secret=INTERNAL_SECRET, token_issuer=ISSUER,
        registry_notification_secret=NOTIFY_SECRET,
        registry_service="registry.test:5000", registry_url="http://127.0.0.1:9",
        registry_timeout=5.0, sync_parallelism=4, sync_page_size=3)


@pytest.fixture
def runtime(config: SyncerConfig) -> Iterator[Runtime]:
    """Engine, sessions, a real bus, and an outbox that keeps every event in
    its table (no bus) so tests can read exactly what was published."""
    engine = make_engine(config.database_url)
    if engine.dialect.name == "sqlite":
        upgrade(MIGRATIONS, engine, "syncer")
    bus = Bus(config.amqp_url or None, config.home, "syncer")
    yield Runtime(engine=engine, sessions=make_sessionmaker(engine), bus=bus,
                  outbox=Outbox(OUTBOX, None, "syncer"))
    bus.close()
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
    engine.dispose()


@pytest.fixture
def make_app(config: SyncerConfig, runtime: Runtime, relay: Relay) -> Iterator[Any]:
    """Build the app for a registry URL; the relay forwards to it."""

    def build(registry_url: str | None = None, **kw: Any) -> Any:
        cfg = config if registry_url is None else dataclasses.replace(
            config, registry_url=registry_url)
        directory = kw.pop("directory", None) or RegistryDirectory(default_registry(cfg))
        auth = Authenticator(keys=JwksKeys(static=SIGNER.public_keys()),
                             credentials=None, internal_secret=INTERNAL_SECRET,
                             issuer=ISSUER)
        app = create_app(cfg, runtime=runtime, authenticator=auth, directory=directory,
                         client_for=kw.pop("client_for", None) or ClientPool(cfg), **kw)
        app.testing = True
        relay.target = app
        relay.mode = "on"
        return app

    yield build
    relay.target = None
    relay.mode = "on"


@pytest.fixture
def app(make_app: Any) -> Any:
    return make_app()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()




@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory, relay: Relay) -> Iterator[Any]:
    """One real registry per module, posting notifications to the relay."""
    from registry_process import RegistryProcess

    proc = RegistryProcess(tmp_path_factory.mktemp("registry"), notify_url=relay.url,
                           notify_secret=NOTIFY_SECRET).start()
    yield proc
    proc.stop()
