"""Fixtures of the fault scenarios: one stack on MariaDB + RabbitMQ per session,
started exactly as `make run` starts it, on a MariaDB server and a RabbitMQ node
of its own (see ``servers.py``) so that a scenario can really restart them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest
import requests

from tests.e2e.support.stack import RunningStack
from tests.faults.servers import MariaDBServer, RabbitMQNode, Servers
from tests.faults.support import Admin, Faults

DATABASES = ("token", "catalog", "syncer", "audit")
SLOW_START = 180.0   # more, after berth-run's own 90 s, on a loaded machine


def start(stack: RunningStack) -> None:
    """Start the stack; if berth-run gave up waiting for the ingress but runs on,
    keep polling it a while longer (on a loaded machine the workers can take
    minutes to boot) before calling it a failure."""
    try:
        stack.start()
    except RuntimeError:
        if stack.proc is None or stack.proc.poll() is not None:
            raise
        deadline = time.monotonic() + SLOW_START
        while time.monotonic() < deadline:
            try:
                if stack.api("GET", "/api/v1/_ping", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        raise


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """A private MariaDB server and RabbitMQ node, started side by side."""
    base = tmp_path_factory.mktemp("servers")
    found = Servers(MariaDBServer(base / "mariadb"), RabbitMQNode(base / "rabbitmq"))
    with ExitStack() as resources:
        # Thrown away afterwards: no need for a clean shutdown.
        resources.callback(found.mq.stop, crash=True)
        resources.callback(found.db.stop, crash=True)
        with ThreadPoolExecutor(2) as pool:
            started = [pool.submit(s.start) for s in (found.db, found.mq)]
        for future in started:
            future.result()
        yield found


@pytest.fixture(scope="session")
def fstack(tmp_path_factory: pytest.TempPathFactory,
           servers: Servers) -> Iterator[RunningStack]:
    """The whole stack on the private MariaDB + RabbitMQ."""
    env = {"BERTH_AMQP_URL": servers.mq.url}
    for svc in DATABASES:
        env[f"BERTH_{svc.upper()}_DATABASE_URL"] = servers.db.create_database(
            f"berth_{svc}")
    # Reconcile only when a scenario asks for it: a timed run in the middle of a
    # scenario would hide what the notifications alone achieve.
    env["BERTH_SYNC_ON_START"] = "false"
    env["BERTH_SYNC_INTERVAL"] = "86400"
    stack = RunningStack(tmp_path_factory.mktemp("faults") / "home", env=env)
    try:
        start(stack)
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def admin(fstack: RunningStack) -> Admin:
    """The bootstrapped admin of the fault stack."""
    body = {"user": {"username": "admin", "email": "admin@example.test",
                     "password": "correct-horse-battery"}}
    resp = fstack.api("POST", "/api/v1/users/bootstrap", json=body)
    assert resp.status_code == 201, resp.text
    return Admin("admin", "correct-horse-battery", resp.json()["plain_token"])


@pytest.fixture
def faults(fstack: RunningStack, admin: Admin, servers: Servers) -> Faults:
    """Fault injection and verification helpers bound to the stack."""
    return Faults(fstack, admin, servers)
