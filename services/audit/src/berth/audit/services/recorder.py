"""Appending events to the chain, exactly once per event id.

Writers serialise on the chain-head row: ``SELECT ... FOR UPDATE`` on MySQL;
on SQLite a no-op ``UPDATE`` first, so the database's single write lock is
held before the head is read whatever the transaction mode (a plain read
first could see a stale head and fork the chain). Under that lock the event
id is looked up again, so a redelivery racing its first delivery adds nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from berth.audit.actions import map_event
from berth.audit.chain import record_hash
from berth.audit.models import (
    CHAIN_HEAD_ID,
    GENESIS_HASH,
    LENGTHS,
    AuditRecord,
    ChainHead,
)
from berth.common.events.base import Envelope, InvalidEvent


def utcnow() -> datetime:
    """Now, as the naive UTC datetime the database stores."""
    return datetime.now(UTC).replace(tzinfo=None)


def parse_time(value: str) -> datetime:
    """An ISO 8601 time (``Z`` or offset; naive = UTC) as naive UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidEvent(f"bad occurred_at {value!r}") from exc
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def lock_head(session: Session) -> ChainHead:
    """Take the chain lock and return the head row (created on first use).

    The lock lasts until the transaction ends, so later appends in the same
    transaction (a consumer's batch) reuse the head they already hold."""
    transaction = session.get_transaction()
    held = session.info.get("audit_chain_head")
    if held is not None and transaction is not None and held[0] is transaction:
        return held[1]
    head = _lock_head(session)
    session.info["audit_chain_head"] = (session.get_transaction(), head)
    return head


def _lock_head(session: Session) -> ChainHead:
    dialect = session.get_bind().dialect.name
    query = select(ChainHead).where(ChainHead.id == CHAIN_HEAD_ID)
    if dialect == "sqlite":
        session.execute(update(ChainHead).where(ChainHead.id == CHAIN_HEAD_ID)
                        .values(last_seq=ChainHead.last_seq))
    else:
        query = query.with_for_update()
    head = session.scalars(query.execution_options(populate_existing=True)).first()
    if head is None:
        # A concurrent first writer makes this insert fail; the caller retries.
        head = ChainHead(id=CHAIN_HEAD_ID, last_seq=0, last_hash=GENESIS_HASH,
                         updated_at=utcnow())
        session.add(head)
        session.flush()
    return head


def _clean(text: str) -> str:
    # Lone surrogates cannot be stored as UTF-8: the database would refuse the
    # row and the event (a failed login with a crafted name...) would be lost.
    return text.encode("utf-8", "replace").decode("utf-8")


def _cut(name: str, value: Any) -> str | None:
    if value is None:
        return None
    return _clean(str(value))[:LENGTHS[name]]


def _storable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)   # NaN/Infinity are not JSON; databases refuse them
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, dict):
        return {_clean(str(k)): _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    return value


def _json_safe(value: Any) -> dict[str, Any]:
    # Store exactly what the JSON column gives back (tuples become lists...),
    # so the hash computed now matches the row read later.
    safe = json.loads(json.dumps(_storable(value), default=str, allow_nan=False))
    return safe if isinstance(safe, dict) else {"value": safe}


def stored_event_id(event_id: str) -> str:
    """The id as stored: itself, or its SHA-256 when too long to fit (cutting
    it could make two events look like one)."""
    if len(event_id) <= LENGTHS["event_id"] and event_id == _clean(event_id):
        return event_id
    return hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()


def append(session: Session, env: Envelope) -> AuditRecord | None:
    """Add ``env`` to the chain; None when its event id is already recorded."""
    event_id = stored_event_id(env.id)
    head = lock_head(session)
    existing = select(AuditRecord.id).where(AuditRecord.event_id == event_id)
    if session.get_bind().dialect.name != "sqlite":
        existing = existing.with_for_update()  # a locking read sees the latest
    if session.scalar(existing) is not None:
        return None
    mapped = map_event(env.type, env.data)
    actor = env.actor or {}
    actor_id = actor.get("id")
    actor_name = actor.get("name") or "system"
    actor_address = actor.get("address")
    if actor_id is None and actor_name == "system" and mapped.actor_name:
        actor_name, actor_address = mapped.actor_name, mapped.actor_address
    request_id = env.data.get("request_id") or actor.get("request_id")
    record = AuditRecord(
        id=head.last_seq + 1,
        event_id=event_id,
        event_type=_cut("event_type", env.type),
        action=_cut("action", mapped.action),
        occurred_at=parse_time(env.occurred_at),
        recorded_at=utcnow(),
        actor_id=int(actor_id) if isinstance(actor_id, int | str) and str(
            actor_id).isdigit() else None,
        actor_name=_cut("actor_name", actor_name),
        actor_address=_cut("actor_address", actor_address or mapped.actor_address),
        target_type=_cut("target_type", mapped.target_type),
        target_id=_cut("target_id", mapped.target_id),
        target_name=_cut("target_name", mapped.target_name),
        namespace=_cut("namespace", mapped.namespace),
        repository=_cut("repository", mapped.repository),
        registry_name=_cut("registry_name", mapped.registry),
        details=_json_safe(mapped.details),
        request_id=_cut("request_id", request_id),
        correlation_id=_cut("correlation_id", env.correlation_id),
        producer=_cut("producer", env.producer) or "",
        prev_hash=head.last_hash,
    )
    record.hash = record_hash(record)
    session.add(record)
    head.last_seq = record.id
    head.last_hash = record.hash
    head.updated_at = record.recorded_at
    session.flush()
    return record
