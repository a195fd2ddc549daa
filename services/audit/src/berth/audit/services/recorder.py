"""Appending events to the chain, exactly once per event id.

Writers serialise on the chain-head row: ``SELECT ... FOR UPDATE`` on MySQL;
on SQLite a no-op ``UPDATE`` first, so the database's single write lock is
held before the head is read whatever the transaction mode (a plain read
first could see a stale head and fork the chain). Under that lock the event
ids are looked up again, so a redelivery racing its first delivery adds
nothing.

A batch (a consumer's, or a bulk load) costs one lock, one look-up of all its
event ids and one multi-row insert: its records are chained in memory from
the locked head, exactly as one-by-one appends would chain them.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from berth.audit.actions import map_event
from berth.audit.chain import fields_hash
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


# Ids per look-up: well under SQLite's and MariaDB's limits on bound values.
LOOKUP_CHUNK = 500


def recorded_ids(session: Session, event_ids: Iterable[str]) -> set[str]:
    """Which of ``event_ids`` (stored form) are already in the log.

    Called with the chain lock held; on MySQL the read locks, so it sees rows
    committed after this transaction's snapshot was taken."""
    wanted = sorted(set(event_ids))
    locking = session.get_bind().dialect.name != "sqlite"
    found: set[str] = set()
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        query = select(AuditRecord.event_id).where(
            AuditRecord.event_id.in_(wanted[start:start + LOOKUP_CHUNK]))
        if locking:
            query = query.with_for_update()
        found.update(session.scalars(query))
    return found


def _row(env: Envelope, event_id: str, seq: int, prev_hash: str) -> dict[str, Any]:
    mapped = map_event(env.type, env.data)
    actor = env.actor or {}
    actor_id = actor.get("id")
    actor_name = actor.get("name") or "system"
    actor_address = actor.get("address")
    if actor_id is None and actor_name == "system" and mapped.actor_name:
        actor_name, actor_address = mapped.actor_name, mapped.actor_address
    request_id = env.data.get("request_id") or actor.get("request_id")
    row: dict[str, Any] = {
        "id": seq,
        "event_id": event_id,
        "event_type": _cut("event_type", env.type),
        "action": _cut("action", mapped.action),
        "occurred_at": parse_time(env.occurred_at),
        "recorded_at": utcnow(),
        "actor_id": int(actor_id) if isinstance(actor_id, int | str) and str(
            actor_id).isdigit() else None,
        "actor_name": _cut("actor_name", actor_name),
        "actor_address": _cut("actor_address", actor_address or mapped.actor_address),
        "target_type": _cut("target_type", mapped.target_type),
        "target_id": _cut("target_id", mapped.target_id),
        "target_name": _cut("target_name", mapped.target_name),
        "namespace": _cut("namespace", mapped.namespace),
        "repository": _cut("repository", mapped.repository),
        "registry_name": _cut("registry_name", mapped.registry),
        "details": _json_safe(mapped.details),
        "request_id": _cut("request_id", request_id),
        "correlation_id": _cut("correlation_id", env.correlation_id),
        "producer": _cut("producer", env.producer) or "",
        "prev_hash": prev_hash,
    }
    row["hash"] = fields_hash(row)
    return row


def append_rows(session: Session, envelopes: Sequence[Envelope]
                ) -> list[dict[str, Any] | None]:
    """Add each of ``envelopes`` to the chain, in order; return the column
    values of each new record, or None where the event id is already recorded
    (or came earlier in ``envelopes``). The rows are inserted, and the head
    moved, when this returns."""
    if not envelopes:
        return []
    event_ids = [stored_event_id(env.id) for env in envelopes]
    head = lock_head(session)
    taken = recorded_ids(session, event_ids)
    seq, last_hash = head.last_seq, head.last_hash
    rows: list[dict[str, Any] | None] = []
    for env, event_id in zip(envelopes, event_ids, strict=True):
        if event_id in taken:
            rows.append(None)
            continue
        taken.add(event_id)
        row = _row(env, event_id, seq + 1, last_hash)
        seq, last_hash = row["id"], row["hash"]
        rows.append(row)
    new = [row for row in rows if row is not None]
    if not new:
        return rows
    # A Core multi-row insert: the rows need no ORM bookkeeping (nothing in
    # this session reads them back before the commit).
    session.execute(insert(AuditRecord.__table__), new)
    head.last_seq = seq
    head.last_hash = last_hash
    head.updated_at = new[-1]["recorded_at"]
    session.flush()
    return rows


def append_many(session: Session, envelopes: Sequence[Envelope]
                ) -> list[AuditRecord | None]:
    """:func:`append_rows`, each new record as an :class:`AuditRecord` that is
    not attached to ``session``."""
    return [None if row is None else AuditRecord(**row)
            for row in append_rows(session, envelopes)]


def append(session: Session, env: Envelope) -> AuditRecord | None:
    """Add ``env`` to the chain; None when its event id is already recorded."""
    return append_many(session, [env])[0]
