"""Alembic, one history per service, run programmatically on SQLite and MySQL."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import MetaData
from sqlalchemy.engine import Connection, Engine

if TYPE_CHECKING:  # Alembic is imported only when migrating: workers never load it
    from alembic.config import Config


def alembic_config(script_location: Path, url: str, service: str) -> Config:
    """An Alembic config for ``service`` whose history lives in ``script_location``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["version_table"] = f"alembic_version_{service}"
    return cfg


def upgrade(script_location: Path, engine: Engine, service: str) -> None:
    """Bring the database of ``engine`` to the newest revision."""
    from alembic import command

    cfg = alembic_config(script_location, str(engine.url), service)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's ``env.py`` (online mode, given or new connection)."""
    from alembic import context

    cfg = context.config
    version_table = cfg.attributes.get("version_table", "alembic_version")
    connection: Connection | None = cfg.attributes.get("connection")

    def run(conn: Connection) -> None:
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            version_table=version_table,
            render_as_batch=conn.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    if connection is not None:
        run(connection)
        return
    from berth.common.db import make_engine

    engine = make_engine(cfg.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        run(conn)


def pending_changes(script_location: Path, engine: Engine, service: str,
                    target_metadata: MetaData) -> list[object]:
    """Differences between the migrated schema and the models (empty when in sync)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    upgrade(script_location, engine, service)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = compare_metadata(ctx, target_metadata)
    return [d for d in diffs if not _is_version_table(d, service)]


def _is_version_table(diff: object, service: str) -> bool:
    return isinstance(diff, tuple) and len(diff) > 1 and getattr(
        diff[1], "name", "") == f"alembic_version_{service}"
