"""`python -m berth.catalog webhooks` on a real bus: RabbitMQ with MariaDB, or
the embedded transport with a SQLite file. A push published by another
producer reaches a local receiver once, signed, even when redelivered."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from berth.catalog.__main__ import migrate, webhooks
from berth.catalog.config import CatalogConfig
from berth.catalog.models import Namespace, Webhook, WebhookDelivery
from berth.catalog.webhooks.crypto import signature
from berth.catalog.webhooks.runtime import webhook_runtime
from berth.common.bus import Bus, BusError
from berth.common.config import load
from berth.common.events.base import Envelope
from berth.common.events.registry import ManifestPushed
from berth.common.testing import rabbitmq_vhost
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

SERVICE = "registry.test:5000"
SECRET = "integration-secret"


@pytest.fixture
def received() -> Iterator[tuple[int, list[tuple[dict[str, str], bytes]]]]:
    got: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            got.append((dict(self.headers.items()), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port, got
    server.shutdown()
    server.server_close()


@pytest.fixture
def own_amqp(amqp_url: str) -> Iterator[str]:
    """A vhost of this test's own: nobody consumes the other queues here, so
    what it publishes must not outlive it."""
    if not amqp_url:
        yield ""
        return
    with rabbitmq_vhost() as url:
        yield url


@pytest.fixture
def config(tmp_path: Path, db_url: str, own_amqp: str) -> CatalogConfig:
    url = db_url if not db_url.startswith("sqlite") else \
        f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    cfg = load(CatalogConfig, {"BERTH_HOME": str(tmp_path),
                               "BERTH_REGISTRY_SERVICE": SERVICE,
                               "BERTH_REGISTRY_HOSTNAME": SERVICE},
               database_url=url, amqp_url=own_amqp,
               webhook_allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),))
    migrate(cfg)
    return cfg


def publish(bus: Bus, env: Envelope) -> None:
    # The embedded transport's binding files may be read half-written while
    # the worker declares them at start-up.
    for _ in range(20):
        try:
            bus.publish([env])
            return
        except BusError:
            time.sleep(0.2)
    bus.publish([env])


def wait_for(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_a_published_push_is_delivered_once(config: CatalogConfig,
                                            received: Any) -> None:
    port, got = received
    vault = webhook_runtime(config).vault
    engine = create_engine(config.database_url)
    with Session(engine) as s:
        global_ns = s.scalar(select(Namespace).where(Namespace.is_global.is_(True)))
        assert global_ns is not None
        s.add(Webhook(namespace_id=global_ns.id, name="ci",
                      url=f"http://127.0.0.1:{port}/hook", request_method="POST",
                      content_type="application/json", events="push,delete",
                      enabled=True, secret_encrypted=vault.encrypt(SECRET)))
        s.commit()
    stop = threading.Event()
    thread = threading.Thread(target=webhooks, args=(config, stop), daemon=True)
    thread.start()
    bus = Bus(config.amqp_url or None, config.home, "syncer")
    try:
        env = Envelope.wrap(ManifestPushed(registry=SERVICE, repository="app",
                                           digest="sha256:" + "c" * 64, tag="v1"),
                            producer="syncer")
        publish(bus, env)
        publish(bus, env)  # redelivered: delivered once
        headers, body = wait_for(lambda: got[:1])[0]
        assert headers["X-Berth-Signature"] == signature(SECRET, body)
        time.sleep(1.5)
        assert len(got) == 1
        with Session(engine) as s:
            states = s.scalars(select(WebhookDelivery.state)).all()
        assert states == ["succeeded"]
    finally:
        stop.set()
        thread.join(timeout=20)
        bus.close()
        engine.dispose()
    assert not thread.is_alive()
