"""SQLAlchemy 2 engine, one session per request, hooks that run after commit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool

if TYPE_CHECKING:
    from flask import Flask

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# Under MySQL's default wait_timeout (28800 s) and typical proxies' idle cut-offs.
POOL_RECYCLE_SECONDS = 280
_AFTER_COMMIT = "berth_after_commit"
T = TypeVar("T")


class Base(DeclarativeBase):
    """Not used directly: each service subclasses :func:`make_base`'s result."""


def make_base() -> type[DeclarativeBase]:
    """A declarative base with its own MetaData and the naming convention."""

    class ServiceBase(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING_CONVENTION)

    return ServiceBase


def make_engine(url: str, **kw: Any) -> Engine:
    """An engine tuned for the backend: SQLite (FKs on, WAL) or MySQL (pre-ping)."""
    if url.startswith("sqlite"):
        if url in {"sqlite://", "sqlite:///:memory:"}:
            kw.setdefault("poolclass", StaticPool)
        kw.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kw)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "before_cursor_execute", _sqlite_begin)
        return engine
    if url.startswith("mysql"):
        kw.setdefault("pool_recycle", POOL_RECYCLE_SECONDS)
        kw.setdefault("connect_args", {"connect_timeout": 5, "charset": "utf8mb4"})
        kw.setdefault("pool_size", 10)
        kw.setdefault("max_overflow", 20)
        kw.setdefault("pool_timeout", 5)
    return create_engine(url, pool_pre_ping=True, **kw)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin_immediate).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


_WRITE_INTENT: ContextVar[bool] = ContextVar("berth_db_write_intent", default=True)
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC", "CREATE", "DROP", "ALTER")


def set_write_intent(intent: bool) -> Token[bool]:
    """Declare whether transactions begun from now on (in this context) may write.

    Only SQLite uses it: ``base_app`` declares safe HTTP methods read-only;
    workers and scripts keep the default (write).
    """
    return _WRITE_INTENT.set(intent)


def reset_write_intent(token: Token[bool]) -> None:
    """Undo :func:`set_write_intent`."""
    _WRITE_INTENT.reset(token)


def read_mostly(session: Session, work: Callable[[], T]) -> T:
    """Run ``work`` (which usually only reads) without taking SQLite's write lock.

    If it does write and SQLite refuses because another process wrote since
    this transaction's first read, roll back and run it again as a writer.
    Other databases run it once, unchanged.
    """
    if session.get_bind().dialect.name != "sqlite":
        return work()
    token = set_write_intent(False)
    try:
        return work()
    except OperationalError as exc:
        if "locked" not in str(exc):
            raise
        session.rollback()
    finally:
        reset_write_intent(token)
    token = set_write_intent(True)
    try:
        return work()
    finally:
        reset_write_intent(token)


@contextmanager
def read_only_connection(engine: Engine) -> Iterator[Connection]:
    """A pooled connection for reads only (rolled back when returned).

    On SQLite its reads begin a deferred transaction, so they neither wait for
    nor take the write lock."""
    token = set_write_intent(False)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        reset_write_intent(token)


def _sqlite_begin(conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
    # Several processes share one SQLite file in embedded mode. A transaction
    # that reads and then writes fails at once ("database is locked") when
    # another process wrote in between, so a transaction that may write takes
    # the write lock at BEGIN and waits its turn (busy timeout) instead. Reads
    # (GET requests) begin deferred so they never queue behind writers.
    if conn.connection.dbapi_connection.in_transaction:
        return
    head = statement.lstrip()[:6].upper()
    if _WRITE_INTENT.get() or head.startswith(_WRITES):
        cursor.execute("BEGIN IMMEDIATE")
    elif not head.startswith("PRAGMA"):
        cursor.execute("BEGIN")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose sessions run registered hooks after each commit."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    factory.configure(info={"berth_factory": factory})
    event.listen(factory, "after_commit", _run_after_commit)
    event.listen(factory, "after_rollback", _drop_after_commit)
    return factory


def after_commit(session: Session, hook: Callable[[], None]) -> None:
    """Run ``hook`` once the current transaction of ``session`` commits."""
    session.info.setdefault(_AFTER_COMMIT, []).append(hook)


def _run_after_commit(session: Session) -> None:
    # SQLAlchemy fires after_commit for a released SAVEPOINT too; the outer
    # transaction has not committed then, so nothing may run yet.
    if session.in_nested_transaction():
        return
    hooks = session.info.pop(_AFTER_COMMIT, [])
    for hook in hooks:
        hook()


def _drop_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # only a SAVEPOINT rolled back; the outer transaction goes on
    session.info.pop(_AFTER_COMMIT, None)
    session.info.pop("berth_outbox", None)  # events of a rolled-back transaction


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def install_session(app: Flask, factory: sessionmaker[Session]) -> None:
    """One session per request, created lazily, closed in teardown."""
    from flask import g

    app.extensions["berth.sessionmaker"] = factory

    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def get_session() -> Session:
    """The current request's session (views commit it explicitly)."""
    from flask import current_app, g

    if "db_session" not in g:
        g.db_session = current_app.extensions["berth.sessionmaker"]()
    session: Session = g.db_session
    return session


def ping(engine: Engine) -> None:
    """Raise if the database does not answer a trivial query."""
    from sqlalchemy import text

    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
