"""SQLite in embedded mode: several processes share one file without
'database is locked' failures; reads do not queue behind writers."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, Integer, Table, insert, select, text

from berth.common.db import (
    make_base,
    make_engine,
    make_sessionmaker,
    read_mostly,
    reset_write_intent,
    set_write_intent,
)

Base = make_base()
ROWS = Table("rows", Base.metadata, Column("id", Integer, primary_key=True))


def _factory(path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    return make_sessionmaker(engine)


def test_read_then_write_after_a_concurrent_write_is_retried(tmp_path: Path) -> None:
    db = tmp_path / "shared.sqlite"
    first, other = _factory(db), _factory(db)
    calls = []
    with first() as session:
        def work() -> int:
            calls.append(1)
            count = len(session.scalars(select(ROWS.c.id)).all())
            if len(calls) == 1:  # another process writes between our read and write
                with other() as s2:
                    s2.execute(insert(ROWS).values(id=100))
                    s2.commit()
            session.execute(insert(ROWS).values(id=count + 1))
            session.commit()
            return count

        assert read_mostly(session, work) == 1
    assert len(calls) == 2
    with other() as s:
        assert sorted(s.scalars(select(ROWS.c.id)).all()) == [2, 100]


def test_read_only_transactions_do_not_take_the_write_lock(tmp_path: Path) -> None:
    db = tmp_path / "shared.sqlite"
    writer, reader = _factory(db), _factory(db)
    with writer() as w:
        w.execute(insert(ROWS).values(id=1))  # holds the write lock, uncommitted
        token = set_write_intent(False)
        try:
            with reader() as r:
                assert r.scalars(select(ROWS.c.id)).all() == []
        finally:
            reset_write_intent(token)
        w.commit()


def test_foreign_keys_and_wal_are_on(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
