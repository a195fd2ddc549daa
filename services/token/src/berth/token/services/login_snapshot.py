"""Everything a login reads, in one statement: the user by name, the
application token by digest (if it is that user's), and the throttle counters
of the account and of the client address.

The steady state of ``/v2/token`` (a token used within the last minute, a
cached password) then costs one indexed query and no ORM work; see
:meth:`berth.token.services.credentials.CredentialService.recognise`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from berth.token.models import ApplicationToken, LoginThrottle, User
from sqlalchemy import Connection, bindparam, select

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


def read(conn: Connection, *, username: str, digest: str, account_key: str,
         address_key: str | None) -> LoginSnapshot | None:
    """The snapshot of ``username``'s login, or None when no such user exists.

    ``address_key`` None reads no address row (a login without an address)."""
    row = conn.execute(_STATEMENT, {
        "username": username, "digest": digest, "account_key": account_key,
        "address_key": address_key}).first()
    if row is None:
        return None
    values = row._mapping
    return LoginSnapshot(
        user_id=values["id"], username=values["username"], admin=bool(values["admin"]),
        bot=bool(values["bot"]), enabled=bool(values["enabled"]),
        password_hash=values["password_hash"],
        password_changed_at=values["password_changed_at"],
        token_id=values["token_id"], token_last_used_at=values["token_last_used_at"],
        account=_counts(values, "account"), address=_counts(values, "address"))


def _counts(values: Any, prefix: str) -> Counts | None:
    if values[f"{prefix}_id"] is None:
        return None
    return Counts(*(values[f"{prefix}_{name}"] for name in _THROTTLE_COLUMNS))
