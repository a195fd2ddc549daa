"""Where the audit service's migrations live, and running them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from berth.common.db import make_engine
from berth.common.migrations import upgrade

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE = "audit"


def upgrade_engine(engine: Engine) -> None:
    """Bring the database behind ``engine`` to the newest schema."""
    upgrade(MIGRATIONS, engine, SERVICE)


def migrate(database_url: str) -> None:
    """Bring the database at ``database_url`` to the newest schema."""
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True)
    engine = make_engine(database_url)
    try:
        upgrade_engine(engine)
    finally:
        engine.dispose()
