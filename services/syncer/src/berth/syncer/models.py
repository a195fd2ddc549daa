"""What the syncer last saw in each registry, its runs, and its lock.

The observed state is the syncer's own memory of the registry, not the
catalog: the reconcile diffs the registry against it so that only changes
become events.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from berth.common.db import make_base
from berth.common.outbox import bus_tables
from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column, relationship

if TYPE_CHECKING:  # make_base() builds a class at run time; type checkers see its base
    from sqlalchemy.orm import DeclarativeBase as Base
else:
    Base = make_base()
# Microseconds on MySQL too: the reconcile compares these with the moment a
# listing started, and a notification within the same second must win.
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
OUTBOX, PROCESSED = bus_tables(Base.metadata)


class ObservedRepository(Base):
    """A repository the syncer saw in a registry."""

    __tablename__ = "observed_repositories"
    __table_args__ = (UniqueConstraint("registry", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The registry's service name ("registry" is reserved by declarative classes).
    service: Mapped[str] = mapped_column("registry", String(255))
    name: Mapped[str] = mapped_column(String(255))
    # The last reconcile run that found it in /v2/_catalog (mark and sweep).
    last_seen_run: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)
    tags: Mapped[list[ObservedTag]] = relationship(
        back_populates="repository", cascade="all, delete-orphan",
        passive_deletes=True)


class ObservedTag(Base):
    """A tag and the manifest digest it pointed at when last seen."""

    __tablename__ = "observed_tags"
    __table_args__ = (UniqueConstraint("repository_id", "tag"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("observed_repositories.id", ondelete="CASCADE"), index=True)
    tag: Mapped[str] = mapped_column(String(128))
    digest: Mapped[str] = mapped_column(String(100))
    media_type: Mapped[str | None] = mapped_column(String(255), nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)
    repository: Mapped[ObservedRepository] = relationship(back_populates="tags")


class SeenNotification(Base):
    """A registry event already turned into a bus event (duplicates are dropped)."""

    __tablename__ = "seen_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class SyncRun(Base):
    """One reconcile: what it saw, what it changed, and what went wrong."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    strategy: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # running, succeeded, failed
    triggered_by: Mapped[str] = mapped_column(String(255))
    repositories: Mapped[int] = mapped_column(Integer, default=0)
    tags: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    error_details: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)


class SyncLock(Base):
    """One row per lock name; whoever holds an unexpired row owns the lock."""

    __tablename__ = "sync_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ImageScan(Base):
    """The scan of one manifest digest: status, inventory and findings.

    Keyed by digest: the same image in several repositories is scanned once.
    ``registry`` and ``repository`` say where it was last seen (where to read it).
    """

    __tablename__ = "image_scans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(100), unique=True)
    service: Mapped[str] = mapped_column("registry", String(255))
    repository: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), index=True)  # none, working, done, failed
    scanner: Mapped[str | None] = mapped_column(String(32), nullable=True)
    db_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    requested_at: Mapped[datetime] = mapped_column(Timestamp)
    started_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    os: Mapped[str | None] = mapped_column(String(255), nullable=True)
    summary: Mapped[dict[str, int] | None] = mapped_column(JSON, nullable=True)
    findings: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    inventory: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
