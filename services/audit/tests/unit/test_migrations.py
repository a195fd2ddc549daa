"""The Alembic history matches the models on SQLite and MariaDB."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect

from berth.audit.models import Base
from berth.audit.schema import MIGRATIONS, SERVICE, upgrade_engine
from berth.common.migrations import pending_changes
from berth.common.testing import backend, mysql_database


def _url(tmp_path: Path) -> Any:
    if backend() == "mysql":
        return mysql_database("berth_audit_mig")
    return nullcontext(f"sqlite:///{tmp_path / 'audit.sqlite'}")


def test_migrations_match_models(tmp_path: Path) -> None:
    with _url(tmp_path) as url:
        engine = create_engine(url)
        try:
            assert pending_changes(MIGRATIONS, engine, SERVICE, Base.metadata) == []
        finally:
            engine.dispose()


def test_target_type_filters_have_an_index(tmp_path: Path) -> None:
    with _url(tmp_path) as url:
        engine = create_engine(url)
        try:
            upgrade_engine(engine)
            indexes = {ix["name"]: ix["column_names"]
                       for ix in inspect(engine).get_indexes("audit_records")}
        finally:
            engine.dispose()
    assert indexes["ix_audit_records_target_type_occurred_at"] == [
        "target_type", "occurred_at"]
