"""Builds the collaborators every service wires in its app factory and worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Table
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from berth.common.auth import Authenticator, JwksKeys, RemoteCredentials
from berth.common.bus import Bus
from berth.common.config import CommonSettings
from berth.common.db import make_engine, make_sessionmaker, ping
from berth.common.outbox import Outbox

if TYPE_CHECKING:
    from berth.common.signing import PublicKey


@dataclass
class Runtime:
    """Engine, session factory, bus and outbox of one service process."""

    engine: Engine
    sessions: sessionmaker[Session]
    bus: Bus
    outbox: Outbox

    def health_checks(self) -> dict[str, object]:
        """The database and bus checks every service reports."""
        return {"database": lambda: ping(self.engine), "bus": self.bus.ping}


def build_runtime(settings: CommonSettings, *, service: str, database_url: str,
                  outbox_table: Table) -> Runtime:
    """Create the engine, sessions, bus and outbox for ``service``."""
    engine = make_engine(database_url)
    bus = Bus(settings.amqp_url or None, settings.home, service)
    return Runtime(engine=engine, sessions=make_sessionmaker(engine), bus=bus,
                   outbox=Outbox(outbox_table, bus, service))


def remote_authenticator(settings: CommonSettings, *, issuer: str | None,
                         static_keys: dict[str, PublicKey] | None = None) -> Authenticator:
    """API authentication through the token service (JWKS + credential lookup)."""
    keys = JwksKeys(url=settings.token_url.rstrip("/") + "/.well-known/jwks.json",
                    static=static_keys)
    creds = RemoteCredentials(settings.token_url, settings.internal_secret)
    return Authenticator(keys=keys, credentials=creds,
                         internal_secret=settings.internal_secret, issuer=issuer)
