"""The migration history matches the models, on SQLite and MariaDB."""

from __future__ import annotations

from berth.common.db import make_engine
from berth.common.migrations import pending_changes
from berth.token.app import MIGRATIONS
from berth.token.models import Base


def test_migrations_match_models(fresh_database_url: str) -> None:
    engine = make_engine(fresh_database_url)
    try:
        assert pending_changes(MIGRATIONS, engine, "token", Base.metadata) == []
    finally:
        engine.dispose()
