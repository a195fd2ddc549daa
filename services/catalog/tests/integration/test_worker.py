"""The worker on a real bus: RabbitMQ with MariaDB, or the embedded transport
with a SQLite file. A registry push published by another producer becomes a
tag, and the catalog's own events reach other consumers' queues."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from berth.catalog.__main__ import migrate, worker
from berth.catalog.config import CatalogConfig
from berth.catalog.models import Tag
from berth.common.bus import Bus, BusError, queues_for
from berth.common.config import load
from berth.common.events.base import Envelope
from berth.common.events.registry import ManifestPushed
from sqlalchemy import create_engine, select

SERVICE = "registry.test:5000"


@pytest.fixture
def config(tmp_path: Path, db_url: str, amqp_url: str) -> CatalogConfig:
    url = db_url if not db_url.startswith("sqlite") else \
        f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    cfg = load(CatalogConfig, {"BERTH_HOME": str(tmp_path),
                               "BERTH_REGISTRY_SERVICE": SERVICE,
                               "BERTH_REGISTRY_HOSTNAME": SERVICE},
               database_url=url, amqp_url=amqp_url)
    migrate(cfg)
    return cfg


@pytest.fixture
def running(config: CatalogConfig) -> Iterator[CatalogConfig]:
    # The RabbitMQ vhost lives for the whole run: drop what earlier tests left
    # in the catalog's queue so only this test's events reach its database.
    bus = Bus(config.amqp_url or None, config.home, "test")
    with bus.connection() as conn:
        bus.declare(conn)
        for queue in queues_for("catalog"):
            queue(conn.default_channel).purge()
    stop = threading.Event()
    thread = threading.Thread(target=worker, args=(config, stop), daemon=True)
    thread.start()
    try:
        yield config
    finally:
        stop.set()
        thread.join(timeout=15)


def wait_for(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def publish(bus: Bus, env: Envelope) -> None:
    # The embedded transport's binding files can be read half-written while the
    # worker declares them at start-up (kombu truncates before it locks).
    for _ in range(20):
        try:
            bus.publish([env])
            return
        except BusError:
            time.sleep(0.2)
    bus.publish([env])


def test_push_event_becomes_a_tag_and_catalog_events_flow(running: CatalogConfig) -> None:
    bus = Bus(running.amqp_url or None, running.home, "syncer")
    digest = "sha256:" + "e" * 64
    env = Envelope.wrap(ManifestPushed(registry=SERVICE, repository="library-x/app",
                                       digest=digest, tag="v1", actor="root"),
                        producer="syncer")
    publish(bus, env)
    publish(bus, env)  # redelivered: applied once
    engine = create_engine(running.database_url)

    def tag() -> Any:
        with engine.connect() as conn:
            return conn.execute(select(Tag.name, Tag.digest)).all()

    assert wait_for(tag) == [("v1", digest)]
    time.sleep(1.0)
    assert tag() == [("v1", digest)]
    engine.dispose()

    # The audit queue binds "#": the catalog's own events reached it.
    seen: list[str] = []
    with bus.connection() as conn:
        main, _ = queues_for("audit")

        def drain() -> bool:
            while True:
                msg = main(conn.default_channel).get(no_ack=True)
                if msg is None:
                    break
                seen.append(Envelope.from_json(msg.payload).type)
            return "catalog.tag.pushed" in seen

        wait_for(drain)
    assert "catalog.repository.created" in seen
    bus.close()
