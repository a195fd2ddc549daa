"""The Alembic history matches the models on SQLite and MariaDB; `migrate`
is idempotent and ensures the default registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from berth.catalog.__main__ import MIGRATIONS, main, migrate
from berth.catalog.models import Base, Namespace, Registry, Team
from berth.common.migrations import pending_changes, upgrade
from berth.common.testing import backend, mysql_database
from sqlalchemy import create_engine, func, select


def _url(tmp_path: Path) -> Any:
    if backend() == "mysql":
        return mysql_database("berth_catalog_mig")
    from contextlib import nullcontext

    return nullcontext(f"sqlite:///{tmp_path / 'db' / 'catalog.sqlite'}")


def test_migrations_match_models(tmp_path: Path) -> None:
    with _url(tmp_path) as url:
        if url.startswith("sqlite"):
            (tmp_path / "db").mkdir()
        engine = create_engine(url)
        try:
            assert pending_changes(MIGRATIONS, engine, "catalog", Base.metadata) == []
        finally:
            engine.dispose()


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    from berth.catalog.config import CatalogConfig
    from berth.common.config import load

    with _url(tmp_path) as url:
        config = load(CatalogConfig, {"BERTH_HOME": str(tmp_path),
                                      "BERTH_REGISTRY_HOSTNAME": "reg.test:5000"},
                      database_url=url)
        migrate(config)
        migrate(config)
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.scalar(select(func.count(Registry.id))) == 1
                service = conn.scalar(select(Registry.service))
                assert service == "reg.test:5000"
                assert conn.scalar(select(func.count(Namespace.id))
                                   .where(Namespace.is_global.is_(True))) == 1
                assert conn.scalar(select(Team.hidden)) is True
        finally:
            engine.dispose()


def test_migrate_applies_a_changed_default_registry(tmp_path: Path) -> None:
    from berth.catalog.config import CatalogConfig
    from berth.common.config import load

    with _url(tmp_path) as url:
        env = {"BERTH_HOME": str(tmp_path), "BERTH_REGISTRY_HOSTNAME": "a.test:5000"}
        migrate(load(CatalogConfig, env, database_url=url))
        env.update({"BERTH_REGISTRY_HOSTNAME": "b.test:5000",
                    "BERTH_REGISTRY_URL": "http://127.0.0.1:5999",
                    "BERTH_REGISTRY_NOTIFICATION_SECRET": "new"})
        migrate(load(CatalogConfig, env, database_url=url))
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                row = conn.execute(select(Registry.hostname, Registry.service,
                                          Registry.url,
                                          Registry.notification_secret)).one()
                assert tuple(row) == ("b.test:5000", "b.test:5000",
                                      "http://127.0.0.1:5999", "new")
        finally:
            engine.dispose()


def test_usage_error_without_command() -> None:
    assert main([]) == 2
    assert main(["dance"]) == 2


def test_migration_0003_indexes_and_counts_existing_repositories(tmp_path: Path
                                                                  ) -> None:
    from alembic import command
    from berth.catalog.models import Repository, RepositoryNameSuffix
    from berth.common.migrations import alembic_config
    from sqlalchemy import text

    with _url(tmp_path) as url:
        if url.startswith("sqlite"):
            (tmp_path / "db").mkdir()
        engine = create_engine(url)
        try:
            cfg = alembic_config(MIGRATIONS, url, "catalog")
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "0002")
            now = "2026-01-01 00:00:00"
            with engine.begin() as conn:
                conn.execute(text(
                    "INSERT INTO registries (id, name, hostname, service, url, use_ssl,"
                    " notification_secret, created_at, updated_at) VALUES (1, 'r',"
                    " 'h', 's', 'u', false, '', :t, :t)"), {"t": now})
                conn.execute(text(
                    "INSERT INTO teams (id, name, description, hidden, created_at,"
                    " updated_at) VALUES (1, 't', '', false, :t, :t)"), {"t": now})
                for ns_id, name in ((1, "one"), (2, "two"), (3, "empty")):
                    conn.execute(text(
                        "INSERT INTO namespaces (id, registry_id, name, team_id,"
                        " visibility, description, is_global, personal, created_at,"
                        " updated_at) VALUES (:id, 1, :n, 1, 'public', '', false,"
                        " false, :t, :t)"), {"id": ns_id, "n": name, "t": now})
                for repo_id, ns_id, name in ((1, 1, "app"), (2, 1, "web"),
                                             (3, 2, "app")):
                    conn.execute(text(
                        "INSERT INTO repositories (id, namespace_id, name, description,"
                        " created_at, updated_at) VALUES (:id, :ns, :n, '', :t, :t)"),
                        {"id": repo_id, "ns": ns_id, "n": name, "t": now})
            upgrade(MIGRATIONS, engine, "catalog")
            with engine.connect() as conn:
                counts = dict(conn.execute(select(Namespace.name,
                                                  Namespace.repositories_count)).all())
                assert counts == {"one": 2, "two": 1, "empty": 0}
                suffixes = conn.execute(
                    select(RepositoryNameSuffix.repository_id,
                           RepositoryNameSuffix.suffix)
                    .order_by(RepositoryNameSuffix.repository_id,
                              RepositoryNameSuffix.suffix)).all()
                assert [tuple(r) for r in suffixes] == [
                    (1, "app"), (1, "p"), (1, "pp"), (2, "b"), (2, "eb"), (2, "web"),
                    (3, "app"), (3, "p"), (3, "pp")]
                assert conn.scalar(select(func.count(Repository.id))) == 3
        finally:
            engine.dispose()
