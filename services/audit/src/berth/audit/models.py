"""The audit database: records chained by hash, the chain head, retention anchors.

``audit_records.id`` is the record's sequence number in the chain; it is
assigned by the writer holding the chain-head lock, never by the database, so
the chain has no gaps unless a row is removed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from berth.common.db import make_base
from berth.common.outbox import bus_tables

Base = make_base()
OUTBOX, PROCESSED = bus_tables(Base.metadata)

GENESIS_HASH = "0" * 64
CHAIN_HEAD_ID = 1

# MySQL's DATETIME drops fractions by default; the hash covers microseconds.
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

# Column sizes, shared with the recorder so values are cut before hashing.
LENGTHS = {
    "event_id": 64, "event_type": 128, "action": 128, "actor_name": 255,
    "actor_address": 64, "target_type": 64, "target_id": 64, "target_name": 255,
    "namespace": 255, "repository": 255, "registry_name": 255, "request_id": 128,
    "correlation_id": 128, "producer": 64,
}


class AuditRecord(Base):  # type: ignore[valid-type,misc]
    """One event, as it entered the log."""

    __tablename__ = "audit_records"
    __table_args__ = (
        Index("ix_audit_records_occurred_at", "occurred_at"),
        Index("ix_audit_records_recorded_at", "recorded_at"),
        Index("ix_audit_records_actor_name", "actor_name"),
        Index("ix_audit_records_actor_id", "actor_id"),
        Index("ix_audit_records_action", "action"),
        Index("ix_audit_records_namespace", "namespace"),
        Index("ix_audit_records_repository", "repository"),
        Index("ix_audit_records_target_type_occurred_at", "target_type", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(128))
    occurred_at: Mapped[datetime] = mapped_column(Timestamp)
    recorded_at: Mapped[datetime] = mapped_column(Timestamp)
    actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    actor_name: Mapped[str] = mapped_column(String(255))
    actor_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    target_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    target_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    target_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    namespace: Mapped[str | None] = mapped_column(String(255), nullable=True)
    repository: Mapped[str | None] = mapped_column(String(255), nullable=True)
    registry_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    correlation_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    producer: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ChainHead(Base):  # type: ignore[valid-type,misc]
    """The single row every writer locks: the last sequence number and hash."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class RetentionAnchor(Base):  # type: ignore[valid-type,misc]
    """The last pruned record's sequence and hash, HMAC'd with the anchor key."""

    __tablename__ = "audit_retention_anchors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    hash: Mapped[str] = mapped_column(String(64))
    pruned: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    mac: Mapped[str] = mapped_column(String(64))
