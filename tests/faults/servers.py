"""Private MariaDB and RabbitMQ servers for the fault scenarios.

The machine's shared servers must never be stopped, so the fault stack gets
servers of its own: started by the test session on free loopback ports, with
their data in a temporary directory. A scenario can then really stop one
(``SIGTERM``, or ``SIGKILL`` for a crash) and start it again on the same port
with the same data, as an operator's restart would.

Each server is a context manager (``with MariaDBServer(dir) as db: ...``) and
has ``start()``, ``stop(crash=False)`` and ``restart(crash=False)``;
``start()`` returns once a client can connect.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import pymysql
from berth.common.testing import free_port
from kombu import Connection

RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class _Server:
    """One server process in its own session, so stopping it (and anything it
    spawned) touches nothing else on the machine."""

    name = "server"

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = base / f"{self.name}.out"

    # -- what a subclass provides -------------------------------------------
    def _prepare(self) -> None:
        """Create the data directory on first start."""

    def _command(self) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    def _ready(self) -> bool:
        raise NotImplementedError

    # -- lifecycle ----------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 120) -> None:
        """Start the server and wait until a client can connect."""
        assert not self.running, f"{self.name} is already running"
        self.base.mkdir(parents=True, exist_ok=True)
        self._prepare()
        cmd, env = self._command()
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(cmd, env=env, cwd=self.base, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if _listening(self.port) and self._ready():
                return
            time.sleep(0.2)
        self.stop(crash=True)
        tail = self.log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{self.name} did not start on port {self.port}:\n{tail}")

    def stop(self, crash: bool = False, timeout: float = 60) -> None:
        """Stop the server: SIGTERM (a clean shutdown) or, with ``crash``,
        SIGKILL to its whole process group. Waits until the port is closed."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            sig = signal.SIGKILL if crash else signal.SIGTERM
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        try:  # whatever the leader left behind in its group
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc = None
        deadline = time.monotonic() + timeout
        while _listening(self.port) and time.monotonic() < deadline:
            time.sleep(0.1)

    def restart(self, crash: bool = False) -> None:
        """Stop the server and start it again on the same port, same data."""
        self.stop(crash=crash)
        self.start()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


class MariaDBServer(_Server):
    """``mariadbd`` on 127.0.0.1:``port``; ``root`` has no password."""

    name = "mariadb"

    def __init__(self, base: Path) -> None:
        super().__init__(base)
        self.datadir = base / "data"

    @property
    def admin_url(self) -> str:
        """SQLAlchemy URL of the server as root (no database)."""
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/"

    def database_url(self, name: str) -> str:
        """SQLAlchemy URL of database ``name`` on this server."""
        return f"{self.admin_url}{name}?charset=utf8mb4&ssl_disabled=1"

    def create_database(self, name: str) -> str:
        """Create database ``name``; return its URL."""
        with self._connect() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 "
                        "COLLATE utf8mb4_bin")
        return self.database_url(name)

    def _connect(self) -> pymysql.Connection:  # type: ignore[type-arg]
        return pymysql.connect(host="127.0.0.1", port=self.port, user="root",
                               connect_timeout=2)

    def _prepare(self) -> None:
        if self.datadir.exists():
            return
        cmd = ["mariadb-install-db", "--no-defaults", f"--datadir={self.datadir}",
               "--auth-root-authentication-method=normal", "--skip-test-db"]
        out = subprocess.run(cmd + self._as_root(), capture_output=True, text=True,
                             timeout=120, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed:\n{out.stdout}{out.stderr}")

    def _command(self) -> tuple[list[str], dict[str, str]]:
        cmd = ["/usr/sbin/mariadbd", "--no-defaults", f"--datadir={self.datadir}",
               f"--socket={self.base / 'sock'}", f"--port={self.port}",
               "--bind-address=127.0.0.1", f"--pid-file={self.base / 'mariadbd.pid'}",
               f"--log-error={self.base / 'error.log'}", "--skip-name-resolve",
               "--innodb-buffer-pool-size=64M", "--max-connections=500"]
        return cmd + self._as_root(), dict(os.environ)

    @staticmethod
    def _as_root() -> list[str]:
        # mariadbd refuses to run as root unless told to.
        return ["--user=root"] if os.getuid() == 0 else []

    def _ready(self) -> bool:
        try:
            self._connect().close()
        except pymysql.MySQLError:
            return False
        return True


class RabbitMQNode(_Server):
    """A RabbitMQ node of its own (``berthf<hex>@localhost``) next to the
    machine's: its own AMQP and distribution ports, cookie, Mnesia directory,
    configuration and logs; they share only epmd. ``guest``/``guest`` works on
    the default vhost from 127.0.0.1."""

    name = "rabbitmq"

    def __init__(self, base: Path) -> None:
        super().__init__(base)
        self.dist_port = free_port()
        self.nodename = f"berthf{secrets.token_hex(4)}@localhost"

    @property
    def url(self) -> str:
        """AMQP URL of the node's default vhost as guest."""
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def _prepare(self) -> None:
        cookie = self.base / ".erlang.cookie"
        if not cookie.exists():
            cookie.write_text(secrets.token_hex(16).upper())
            cookie.chmod(0o400)
        (self.base / "rabbitmq-env.conf").write_text("")
        (self.base / "enabled_plugins").write_text("[].\n")
        (self.base / "rabbitmq.conf").write_text("loopback_users = none\n")

    def _command(self) -> tuple[list[str], dict[str, str]]:
        env = {**os.environ,
               "HOME": str(self.base),
               "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
               "RABBITMQ_NODENAME": self.nodename,
               "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
               "RABBITMQ_NODE_PORT": str(self.port),
               "RABBITMQ_DIST_PORT": str(self.dist_port),
               "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
               "RABBITMQ_LOG_BASE": str(self.base / "log"),
               "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
               "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
               "RABBITMQ_PID_FILE": str(self.base / "rabbitmq.pid"),
               "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS":
                   "-kernel inet_dist_use_interface {127,0,0,1}",
               "ERL_EPMD_ADDRESS": "127.0.0.1"}
        return [RABBITMQ_SERVER], env

    def _ready(self) -> bool:
        conn = Connection(self.url, connect_timeout=2)
        try:
            conn.ensure_connection(max_retries=1)
        except Exception:  # noqa: BLE001 - any failure means "not yet"
            return False
        finally:
            conn.release()
        return True


class Servers:
    """The fault stack's own database server and broker."""

    def __init__(self, db: MariaDBServer, mq: RabbitMQNode) -> None:
        self.db = db
        self.mq = mq
