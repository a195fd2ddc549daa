"""Fixtures of the fault scenarios: one stack on MariaDB + RabbitMQ per session,
started exactly as `make run` starts it, each service in its own fresh database
and the bus in a fresh vhost (dropped afterwards)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
from berth.common.testing import MYSQL_ADMIN_URL, mysql_database, rabbitmq_vhost
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.e2e.support.stack import RunningStack
from tests.faults.support import Admin, Faults

DATABASES = ("token", "catalog", "syncer", "audit")


@contextmanager
def mysql_user(databases: list[str]) -> Iterator[tuple[str, str]]:
    """A MariaDB account of its own for the stack (an outage can lock it out
    without touching anyone else's connections); yields (user, password)."""
    user, password = f"bf_{secrets.token_hex(6)}", secrets.token_hex(16)
    admin = create_engine(MYSQL_ADMIN_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"))
        for name in databases:
            conn.execute(text(f"GRANT ALL ON `{name}`.* TO '{user}'@'%'"))
    try:
        yield user, password
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP USER IF EXISTS '{user}'@'%'"))
        admin.dispose()


@pytest.fixture(scope="session")
def fstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The whole stack on MariaDB + RabbitMQ."""
    with ExitStack() as resources:
        env = {"BERTH_AMQP_URL": resources.enter_context(rabbitmq_vhost())}
        urls = {svc: make_url(resources.enter_context(
            mysql_database(f"berth_faults_{svc}"))) for svc in DATABASES}
        user, password = resources.enter_context(
            mysql_user([str(u.database) for u in urls.values()]))
        for svc, url in urls.items():
            env[f"BERTH_{svc.upper()}_DATABASE_URL"] = url.set(
                username=user, password=password).render_as_string(hide_password=False)
        env["FAULTS_DB_USER"] = user  # read by Faults, not by Berth
        # Reconcile only when a scenario asks for it: a timed run in the middle
        # of a scenario would hide what the notifications alone achieve.
        env["BERTH_SYNC_ON_START"] = "false"
        env["BERTH_SYNC_INTERVAL"] = "86400"
        stack = RunningStack(tmp_path_factory.mktemp("faults") / "home", env=env)
        stack.start()
        resources.callback(stack.stop)
        yield stack


@pytest.fixture(scope="session")
def admin(fstack: RunningStack) -> Admin:
    """The bootstrapped admin of the fault stack."""
    body = {"user": {"username": "admin", "email": "admin@example.test",
                     "password": "correct-horse-battery"}}
    resp = fstack.api("POST", "/api/v1/users/bootstrap", json=body)
    assert resp.status_code == 201, resp.text
    return Admin("admin", "correct-horse-battery", resp.json()["plain_token"])


@pytest.fixture
def faults(fstack: RunningStack, admin: Admin) -> Faults:
    """Fault injection and verification helpers bound to the stack."""
    return Faults(fstack, admin)
