"""The migration history matches the models on this backend."""

from __future__ import annotations

from berth.common.db import make_engine
from berth.common.migrations import pending_changes
from berth.syncer.__main__ import MIGRATIONS
from berth.syncer.models import Base


def test_migrations_match_the_models(database_url):
    engine = make_engine(database_url)
    try:
        assert pending_changes(MIGRATIONS, engine, "syncer", Base.metadata) == []
    finally:
        engine.dispose()
