"""Everything a login reads, in one statement: the user by name, the
application token by digest (if it is that user's), and the throttle counters
of the account and of the client address.

The steady state of ``/v2/token`` (a token used within the last minute, a
cached password) then costs one indexed query and no ORM work; see
:meth:`berth.token.services.credentials.CredentialService.recognise`.

The query runs on the driver's cursor with SQL compiled once per dialect: on
the hottest path of every ``docker pull``, SQLAlchemy's per-execution work
(context, result set-up) cost about four times the query itself. Anything
unusual (a driver error, a lost connection) gives up on the snapshot; the
caller then takes the full path, where SQLAlchemy handles it as everywhere
else (reconnects, the 503).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from berth.token.models import ApplicationToken, LoginThrottle, User
from sqlalchemy import Dialect, Engine, bindparam, select
from sqlalchemy.exc import DBAPIError

log = structlog.get_logger(__name__)

_USERS = User.__table__
_TOKENS = ApplicationToken.__table__.alias("token")
_THROTTLES = LoginThrottle.__table__
_THROTTLE_COLUMNS = ("failures", "window_started_at", "window_failures", "locked_until")


def _throttle_columns(prefix: str) -> list[Any]:
    # One indexed lookup per value, by the unique key: scalar subqueries keep
    # the throttle rows out of the FROM list (they are not related to the user
    # row, and a join without a condition between them reads as a mistake).
    key = bindparam(f"{prefix}_key")
    return [select(_THROTTLES.c[name]).where(_THROTTLES.c.key == key)
            .scalar_subquery().label(f"{prefix}_{name}")
            for name in ("id", *_THROTTLE_COLUMNS)]


# Built once: SQLAlchemy memoises a statement's cache key, so executing the same
# object again skips building and compiling it.
_STATEMENT = (
    select(_USERS.c.id, _USERS.c.username, _USERS.c.admin, _USERS.c.bot,
           _USERS.c.enabled, _USERS.c.password_hash, _USERS.c.password_changed_at,
           _TOKENS.c.id.label("token_id"),
           _TOKENS.c.last_used_at.label("token_last_used_at"),
           *_throttle_columns("account"), *_throttle_columns("address"))
    .select_from(
        _USERS.outerjoin(_TOKENS, (_TOKENS.c.user_id == _USERS.c.id)
                         & (_TOKENS.c.token_hash == bindparam("digest"))))
    # Unique username and token hash: one row at most.
    .where(_USERS.c.username == bindparam("username"))
)


@dataclass(frozen=True)
class Counts:
    """A copy of one throttle row's counters."""

    failures: int
    window_started_at: datetime
    window_failures: int
    locked_until: datetime | None


@dataclass(frozen=True)
class LoginSnapshot:
    """What :func:`read` found: the user's columns a login decides on, the
    matching token (if any) and the throttle counters (None: no row)."""

    user_id: int
    username: str
    admin: bool
    bot: bool
    enabled: bool
    password_hash: str | None
    password_changed_at: datetime | None
    token_id: int | None
    token_last_used_at: datetime | None
    account: Counts | None
    address: Counts | None


class _Prepared:
    """The statement compiled for one dialect: its SQL, the order of its
    parameters (positional drivers) and a converter per result column (what
    SQLAlchemy would apply: SQLite keeps dates as text, booleans as 0/1)."""

    def __init__(self, dialect: Dialect) -> None:
        compiled = _STATEMENT.compile(dialect=dialect)
        self.sql = compiled.string
        self.order: Sequence[str] | None = compiled.positiontup
        self.names = [column.key for column in _STATEMENT.selected_columns]
        self.converters: list[Callable[[Any], Any] | None] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in _STATEMENT.selected_columns]
        self.driver_error: type[Exception] = dialect.loaded_dbapi.Error

    def parameters(self, values: dict[str, Any]) -> Any:
        if self.order is None:
            return values
        return tuple(values[name] for name in self.order)

    def mapping(self, row: Sequence[Any]) -> dict[str, Any]:
        return {name: value if convert is None or value is None else convert(value)
                for name, convert, value in zip(self.names, self.converters, row,
                                                strict=True)}


_PREPARED: weakref.WeakKeyDictionary[Dialect, _Prepared] = weakref.WeakKeyDictionary()
_PREPARING = threading.Lock()


def _prepared(engine: Engine) -> _Prepared:
    prepared = _PREPARED.get(engine.dialect)
    if prepared is None:
        with _PREPARING:
            prepared = _PREPARED.setdefault(engine.dialect, _Prepared(engine.dialect))
    return prepared


def _execute(cursor: Any, sql: str, parameters: Any) -> Sequence[Any] | None:
    """Run the snapshot's query on a driver cursor (the one place it runs)."""
    cursor.execute(sql, parameters)
    row: Sequence[Any] | None = cursor.fetchone()
    return row


def read(engine: Engine, *, username: str, digest: str, account_key: str,
         address_key: str | None) -> LoginSnapshot | None:
    """The snapshot of ``username``'s login, or None when no such user exists
    or it could not be read (the full path decides then).

    ``address_key`` None reads no address row (a login without an address).
    The pooled connection goes back rolled back, so the next read on it (on
    MariaDB, a new transaction) sees what was committed meanwhile."""
    prepared = _prepared(engine)
    values = {"username": username, "digest": digest, "account_key": account_key,
              "address_key": address_key}
    try:
        connection = engine.raw_connection()
    except prepared.driver_error as exc:
        # The database is down: the error SQLAlchemy's own paths raise (the
        # app answers 503 at once), not the driver's (a 500).
        raise DBAPIError.instance(None, None, exc, prepared.driver_error,
                                  dialect=engine.dialect) from exc
    try:
        cursor = connection.cursor()
        try:
            row = _execute(cursor, prepared.sql, prepared.parameters(values))
        finally:
            cursor.close()
    except prepared.driver_error as exc:
        if engine.dialect.is_disconnect(exc, connection.dbapi_connection, None):
            connection.invalidate(exc)  # never hand a dead connection out again
        log.info("login_snapshot_unread", error_type=type(exc).__name__)
        return None
    finally:
        connection.close()
    if row is None:
        return None
    found = prepared.mapping(row)
    return LoginSnapshot(
        user_id=found["id"], username=found["username"], admin=bool(found["admin"]),
        bot=bool(found["bot"]), enabled=bool(found["enabled"]),
        password_hash=found["password_hash"],
        password_changed_at=found["password_changed_at"],
        token_id=found["token_id"], token_last_used_at=found["token_last_used_at"],
        account=_counts(found, "account"), address=_counts(found, "address"))


def _counts(values: Any, prefix: str) -> Counts | None:
    if values[f"{prefix}_id"] is None:
        return None
    return Counts(*(values[f"{prefix}_{name}"] for name in _THROTTLE_COLUMNS))
