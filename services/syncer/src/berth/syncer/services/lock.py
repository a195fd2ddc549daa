"""A lock in the database: one reconcile at a time across every replica.

The lock is a row; taking it is one conditional UPDATE (free or expired, or
already ours), which both SQLite and MySQL run atomically. A holder renews it
while it works; a crashed holder's lock expires after ``ttl`` seconds.
"""

from __future__ import annotations

from datetime import timedelta

from berth.syncer.models import SyncLock
from berth.syncer.services.observed import utcnow
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

RECONCILE = "reconcile"


class DbLock:
    """A named lock with an owner and an expiry."""

    def __init__(self, factory: sessionmaker[Session], name: str, owner: str,
                 ttl: float) -> None:
        self.factory = factory
        self.name = name
        self.owner = owner
        self.ttl = ttl

    def acquire(self, run_id: int | None = None) -> bool:
        """Take the lock if it is free or expired (never re-entrant); True if taken."""
        self._ensure_row()
        now = utcnow()
        with self.factory.begin() as session:
            result = session.execute(
                update(SyncLock)
                .where(SyncLock.name == self.name,
                       or_(SyncLock.owner.is_(None), SyncLock.expires_at.is_(None),
                           SyncLock.expires_at < now))
                .values(owner=self.owner, run_id=run_id,
                        expires_at=now + timedelta(seconds=self.ttl)))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def set_run(self, run_id: int) -> None:
        """Record which run holds the lock (for the API's 409)."""
        with self.factory.begin() as session:
            session.execute(update(SyncLock).where(
                SyncLock.name == self.name, SyncLock.owner == self.owner)
                .values(run_id=run_id))

    def renew(self) -> bool:
        """Push the expiry forward; False if the lock was lost."""
        with self.factory.begin() as session:
            result = session.execute(
                update(SyncLock)
                .where(SyncLock.name == self.name, SyncLock.owner == self.owner)
                .values(expires_at=utcnow() + timedelta(seconds=self.ttl)))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def release(self) -> None:
        """Give the lock up (only if still ours)."""
        with self.factory.begin() as session:
            session.execute(
                update(SyncLock)
                .where(SyncLock.name == self.name, SyncLock.owner == self.owner)
                .values(owner=None, expires_at=None, run_id=None))

    def holder(self) -> tuple[str | None, int | None]:
        """(owner, run id) of an unexpired lock, or (None, None)."""
        with self.factory() as session:
            row = session.scalar(select(SyncLock).where(SyncLock.name == self.name))
            if row is None or row.owner is None or row.expires_at is None \
                    or row.expires_at < utcnow():
                return None, None
            return row.owner, row.run_id

    def _ensure_row(self) -> None:
        with self.factory() as session:
            if session.get(SyncLock, self.name) is not None:
                return
            session.add(SyncLock(name=self.name))
            try:
                session.commit()
            except IntegrityError:  # another replica inserted it first
                session.rollback()
