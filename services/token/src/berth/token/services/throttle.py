"""Failed-login throttling and lockout, kept in the database so every process
and replica sees the same counts.

* per account (the name that was tried, existing or not): after
  ``account_attempts`` failures within ``window`` seconds further attempts get
  429 until the window ends; after ``lockout_attempts`` failures in a row the
  account is locked for ``lockout_duration`` seconds (answered 401, like any
  refused login).
* per client address: after ``address_attempts`` failures within the window,
  429. A success never resets an address, so one valid account cannot be used
  to keep guessing others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from berth.token.errors import AuthFailed, Throttled
from berth.token.models import LoginThrottle, utcnow
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session


def account_key(username: str) -> str:
    """Throttle key of an account name."""
    return "account:" + username.strip().lower()[:255]


def address_key(address: str) -> str:
    """Throttle key of a client address."""
    return "address:" + address[:255]


class ThrottleCounts(Protocol):
    """The counters of one throttle key (a LoginThrottle row, or a copy of one)."""

    @property
    def failures(self) -> int: ...
    @property
    def window_started_at(self) -> datetime: ...
    @property
    def window_failures(self) -> int: ...
    @property
    def locked_until(self) -> datetime | None: ...


@dataclass(frozen=True)
class ThrottlePolicy:
    """The numbers (from the config)."""

    account_attempts: int = 5
    address_attempts: int = 30
    window: int = 60
    lockout_attempts: int = 10
    lockout_duration: int = 600


class Throttle:
    """Checks and records failed logins in the caller's session."""

    def __init__(self, policy: ThrottlePolicy) -> None:
        self.policy = policy

    def check(self, session: Session, username: str, address: str,
              now: datetime | None = None) -> bool:
        """Raise Throttled or AuthFailed("locked"); True if the account has failures."""
        keys = [account_key(username)] + ([address_key(address)] if address else [])
        rows = {r.key: r for r in session.scalars(
            select(LoginThrottle).where(LoginThrottle.key.in_(keys)))}
        return self.decide(rows.get(keys[0]),
                           rows.get(keys[1]) if address else None, now)

    def decide(self, account: ThrottleCounts | None, address: ThrottleCounts | None,
               now: datetime | None = None) -> bool:
        """:meth:`check` on rows already read (None: no row): raise Throttled or
        AuthFailed("locked"); True if the account has failures."""
        now = now or utcnow()
        window = timedelta(seconds=self.policy.window)
        if address is not None \
                and address.window_failures >= self.policy.address_attempts \
                and now - address.window_started_at < window:
            raise Throttled(_seconds(address.window_started_at + window - now), "address")
        if account is None:
            return False
        if account.locked_until is not None and account.locked_until > now:
            raise AuthFailed("locked")
        if account.window_failures >= self.policy.account_attempts \
                and now - account.window_started_at < window:
            raise Throttled(_seconds(account.window_started_at + window - now),
                            "account")
        return account.failures > 0 or account.locked_until is not None

    def record_failure(self, session: Session, username: str, address: str,
                       now: datetime | None = None) -> datetime | None:
        """Count a failure; return the lock expiry when this failure locked the account."""
        now = now or utcnow()
        locked = None
        for key in [account_key(username)] + ([address_key(address)] if address else []):
            row = self._row(session, key, now)
            if now - row.window_started_at >= timedelta(seconds=self.policy.window):
                row.window_started_at = now
                row.window_failures = 0
            row.window_failures += 1
            row.failures += 1
            if key.startswith("account:") and row.failures >= self.policy.lockout_attempts:
                locked = now + timedelta(seconds=self.policy.lockout_duration)
                row.locked_until = locked
                row.failures = 0
                row.window_failures = 0
        session.flush()
        return locked

    def clear(self, session: Session, username: str) -> None:
        """Forget an account's failures (after a successful login or an unlock)."""
        session.execute(delete(LoginThrottle).where(
            LoginThrottle.key == account_key(username)))

    def _row(self, session: Session, key: str, now: datetime) -> LoginThrottle:
        row = session.scalar(select(LoginThrottle).where(LoginThrottle.key == key))
        if row is not None:
            return row
        # Two failures racing on a new key: the loser reads the winner's row.
        try:
            with session.begin_nested():
                row = LoginThrottle(key=key, failures=0, window_started_at=now,
                                    window_failures=0)
                session.add(row)
                session.flush()
            return row
        except IntegrityError:
            row = session.scalar(select(LoginThrottle).where(LoginThrottle.key == key))
            assert row is not None
            return row


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))
