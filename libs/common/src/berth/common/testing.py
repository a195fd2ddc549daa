"""pytest plugin shared by every service's tests (loaded by the root conftest).

The backend is chosen per run: ``BERTH_TEST_BACKEND=sqlite`` (default: SQLite in
memory and the embedded bus) or ``mysql`` (MariaDB at ``BERTH_TEST_MYSQL_URL``
and RabbitMQ at ``BERTH_TEST_AMQP_URL``, each run in its own database and vhost).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

MYSQL_ADMIN_URL = os.environ.get("BERTH_TEST_MYSQL_URL",
                                 "mysql+pymysql://root@127.0.0.1:3306/")
AMQP_BASE = os.environ.get("BERTH_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672")


def backend() -> str:
    """``sqlite`` or ``mysql``, from ``BERTH_TEST_BACKEND``."""
    value = os.environ.get("BERTH_TEST_BACKEND", "sqlite")
    if value not in {"sqlite", "mysql"}:
        raise pytest.UsageError(f"BERTH_TEST_BACKEND must be sqlite or mysql, not {value}")
    return value


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def mysql_database(prefix: str = "berth_test") -> Iterator[str]:
    """A fresh MariaDB database, dropped afterwards; yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(MYSQL_ADMIN_URL, pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 "
                          "COLLATE utf8mb4_bin"))
    try:
        # PyMySQL builds a TLS context per connection unless told not to (~0.1 s);
        # the test server is on loopback.
        yield MYSQL_ADMIN_URL.rstrip("/") + f"/{name}?charset=utf8mb4&ssl_disabled=1"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


@contextmanager
def rabbitmq_vhost() -> Iterator[str]:
    """A fresh RabbitMQ vhost for guest, deleted afterwards; yields its URL."""
    name = f"berth_test_{uuid.uuid4().hex[:12]}"
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    subprocess.run([ctl, "-q", "add_vhost", name], check=True, capture_output=True)
    subprocess.run([ctl, "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
                   check=True, capture_output=True)
    try:
        yield f"{AMQP_BASE}/{name}"
    finally:
        subprocess.run([ctl, "-q", "delete_vhost", name], capture_output=True)


@pytest.fixture
def database_url() -> Iterator[str]:
    """A database for one test: SQLite in memory, or a fresh MariaDB database."""
    if backend() == "sqlite":
        yield "sqlite://"
        return
    with mysql_database() as url:
        yield url


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    """``""`` (embedded bus) for sqlite runs, a fresh RabbitMQ vhost for mysql runs."""
    if backend() == "sqlite":
        yield ""
        return
    with rabbitmq_vhost() as url:
        yield url


@pytest.fixture
def berth_home(tmp_path: Path) -> Path:
    """A temporary ``BERTH_HOME``."""
    home = tmp_path / "home"
    home.mkdir()
    return home


def pytest_collection_modifyitems(config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """Mark tests by directory: tests/unit, tests/integration, tests/e2e..."""
    for item in items:
        parts = Path(str(item.fspath)).parts
        for layer in ("unit", "integration", "e2e", "faults", "security"):
            if layer in parts:
                item.add_marker(getattr(pytest.mark, layer))
