"""Walking the chain to prove nothing was altered, removed or reordered.

The walk streams records in id order, in batches, starting from the newest
retention anchor (whose MAC must check) or from the genesis hash, and stops at
the first record that does not fit. The chain head must match the last
record, so removing the newest rows is caught too. Rows are read as plain
column values, not ORM objects: a million records must verify in under a
minute. On MySQL/MariaDB each row comes back as one length-prefixed text
(:func:`_packed_row`): PyMySQL decodes every column of every row in Python,
and at a million rows that alone took minutes. A long chain is checked in
id ranges by several processes (:mod:`berth.audit.services.parallel_verify`)
and the ranges joined here, through the same checks as the single walk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import CHAR, ColumnElement, cast, func, literal, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from berth.audit.chain import HASHED_FIELDS, fields_hash, mac_matches, timestamp
from berth.audit.models import (
    CHAIN_HEAD_ID,
    GENESIS_HASH,
    AuditRecord,
    ChainHead,
    RetentionAnchor,
)

BATCH = 5000
# Below this many records, starting worker processes (about a second) costs
# more than it saves.
PARALLEL_FROM = 50_000


@dataclass
class Report:
    """The outcome of one verification."""

    intact: bool = True
    records: int = 0
    first_id: int | None = None
    last_id: int | None = None
    anchor: dict[str, Any] | None = None
    broken: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def fail(self, record_id: int | None, reason: str, **detail: Any) -> Report:
        """Mark the chain broken at ``record_id``."""
        self.intact = False
        self.broken = {"id": record_id, "reason": reason, **detail}
        return self

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of ``GET /api/v1/audit/verify``."""
        body: dict[str, Any] = {"intact": self.intact, "records": self.records,
                                "first_id": self.first_id, "last_id": self.last_id,
                                "anchor": self.anchor}
        if self.broken is not None:
            body["broken"] = self.broken
        return body


def latest_anchor(session: Session) -> RetentionAnchor | None:
    """The anchor of the newest retention run, if any."""
    return session.scalars(select(RetentionAnchor)
                           .order_by(RetentionAnchor.seq.desc()).limit(1)).first()


def verify_chain(session: Session, anchor_key: bytes, *, batch: int = BATCH,
                 processes: int | None = None,
                 parallel_from: int | None = None) -> Report:
    """Walk the whole chain; report intact or the first broken record.

    A chain of ``parallel_from`` records or more in a database other processes
    can open (not SQLite in memory) is checked in ``processes`` worker
    processes (:mod:`berth.audit.services.parallel_verify`), with the same
    report as the walk in this process. ``parallel_from`` defaults to
    :data:`PARALLEL_FROM`. ``processes`` defaults to one per CPU, at most 4
    (the API passes ``BERTH_AUDIT_VERIFY_PROCESSES``).
    The workers are spawned, never forked, so a threaded server may call this.
    """
    if processes is None:
        processes = _default_processes()
    if parallel_from is None:
        parallel_from = PARALLEL_FROM
    anchor = latest_anchor(session)
    report = _walk(session, anchor_key, anchor, batch, processes, parallel_from)
    if report.broken is not None and report.broken["reason"] == "missing_records":
        # Retention may have pruned (and moved the anchor) while we walked.
        newer = latest_anchor(session)
        if newer is not None and (anchor is None or newer.seq != anchor.seq):
            report = _walk(session, anchor_key, newer, batch, processes,
                           parallel_from)
    return report


def _default_processes() -> int:
    from berth.audit.config import verify_processes_default

    return verify_processes_default()


def _walk(session: Session, anchor_key: bytes, anchor: RetentionAnchor | None,
          batch: int, processes: int, parallel_from: int) -> Report:
    report = Report()
    expected_id, expected_prev = 1, GENESIS_HASH
    if anchor is not None:
        report.anchor = {"seq": anchor.seq, "hash": anchor.hash,
                         "pruned": anchor.pruned,
                         "created_at": timestamp(anchor.created_at)}
        if not mac_matches(anchor_key, anchor.seq, anchor.hash, anchor.pruned,
                           anchor.mac):
            return report.fail(anchor.seq, "anchor_invalid")
        expected_id, expected_prev = anchor.seq + 1, anchor.hash
    # The head is read first: records appended while we walk lie beyond it
    # and are left for the next verification.
    head = session.get(ChainHead, CHAIN_HEAD_ID, populate_existing=True)
    last_id = head.last_seq if head is not None else None
    after = expected_id - 1
    expected = (expected_id, expected_prev)
    url = _shared_url(session)
    if (last_id is not None and url is not None and processes > 1
            and last_id - after >= parallel_from):
        from berth.audit.services.parallel_verify import segments

        with closing(segments(url, after, last_id, processes=processes,
                              batch=batch)) as checked:
            for segment in checked:
                expected = _extend(report, segment, expected)
                if report.broken is not None:
                    return report
    else:
        expected = _extend(report, check_range(session, after, last_id, batch),
                           expected)
        if report.broken is not None:
            return report
    expected_id, expected_prev = expected
    if head is not None and (head.last_seq != expected_id - 1
                             or head.last_hash != expected_prev):
        return report.fail(expected_id, "missing_records",
                           expected_last_id=head.last_seq)
    # A writer commits a record and the head together, so no record can lie
    # beyond the current head unless it was slipped in around the writers.
    now = session.get(ChainHead, CHAIN_HEAD_ID, populate_existing=True)
    if now is not None:
        stray = session.scalar(select(func.min(AuditRecord.id))
                               .where(AuditRecord.id > now.last_seq))
        if stray is not None:
            return report.fail(stray, "unchained_record")
    return report


def _shared_url(session: Session) -> str | None:
    """The URL other processes open the session's database with; None for
    SQLite in memory, which only this process sees."""
    url = session.get_bind().engine.url
    if url.get_backend_name() == "sqlite" and (
            url.database in {None, "", ":memory:"}
            or url.query.get("mode") == "memory"):
        return None
    return url.render_as_string(hide_password=False)


@dataclass
class Segment:
    """What checking one id range found. Its first record is checked only
    against itself (its hash): whether it follows the records before the
    range is for :func:`_extend` to decide, once those are known."""

    start_id: int | None = None
    start_prev: str | None = None
    verified: int = 0
    last_id: int | None = None
    last_hash: str | None = None
    broken: dict[str, Any] | None = None


def check_range(reader: Session | Connection, after: int, last_id: int | None,
                batch: int) -> Segment:
    """Check the records after id ``after`` (up to ``last_id``, if given), in
    id order, up to the first one that does not fit."""
    segment = Segment()
    expected_id: int | None = None
    expected_prev: str | None = None
    for record_id, values, stored_hash in _records(reader, after, last_id, batch):
        if expected_id is None:
            segment.start_id, segment.start_prev = record_id, values["prev_hash"]
        elif record_id != expected_id:
            segment.broken = {"id": record_id, "reason": "missing_records",
                              "expected_id": expected_id}
            break
        elif values["prev_hash"] != expected_prev:
            segment.broken = {"id": record_id, "reason": "prev_hash_mismatch"}
            break
        if fields_hash(values) != stored_hash:
            segment.broken = {"id": record_id, "reason": "hash_mismatch"}
            break
        segment.verified += 1
        segment.last_id = record_id
        segment.last_hash = stored_hash
        expected_id, expected_prev = record_id + 1, stored_hash
    return segment


def _extend(report: Report, segment: Segment, expected: tuple[int, str]
            ) -> tuple[int, str]:
    """Add a range's records to ``report`` if its first record follows the
    ones before it; return the id and previous hash the next record needs."""
    if segment.start_id is None:
        return expected
    expected_id, expected_prev = expected
    if segment.start_id != expected_id:
        report.fail(segment.start_id, "missing_records", expected_id=expected_id)
        return expected
    if segment.start_prev != expected_prev:
        report.fail(segment.start_id, "prev_hash_mismatch")
        return expected
    if segment.last_id is not None and segment.last_hash is not None:
        if report.first_id is None:
            report.first_id = segment.start_id
        report.last_id = segment.last_id
        report.records += segment.verified
        expected = (segment.last_id + 1, segment.last_hash)
    if segment.broken is not None:
        report.intact, report.broken = False, segment.broken
    return expected


def _records(reader: Session | Connection, after: int, last_id: int | None,
             batch: int) -> Iterator[tuple[int, dict[str, Any], str]]:
    """Each record's id, hashed column values and stored hash, in id order,
    read ``batch`` rows at a time."""
    table = AuditRecord.__table__
    bind = reader.get_bind() if isinstance(reader, Session) else reader
    packed = bind.dialect.name in {"mysql", "mariadb"}
    columns: list[ColumnElement[Any]] = (
        [_packed_row(), table.c.id] if packed
        else [table.c[name] for name in (*HASHED_FIELDS, "hash")])
    read: Callable[[Sequence[Any]], list[Any]] = _unpack if packed else list
    while True:
        query = select(*columns).where(table.c.id > after)
        if last_id is not None:
            query = query.where(table.c.id <= last_id)
        rows = reader.execute(query.order_by(table.c.id).limit(batch)).all()
        if not rows:
            return
        for row in rows:
            fields = read(row)
            values = dict(zip(HASHED_FIELDS, fields, strict=False))
            yield values["id"], values, fields[-1]
        after = rows[-1][-1] if packed else rows[-1][0]


# MySQL's DATE_FORMAT spelling of :func:`berth.audit.chain.timestamp`.
_MYSQL_TIMESTAMP = "%Y-%m-%dT%H:%i:%s.%fZ"
_NULL = "~"
_TIMES = frozenset({"occurred_at", "recorded_at"})
_INTEGERS = frozenset({"id", "actor_id"})


def _packed_row() -> ColumnElement[Any]:
    """Every hashed column and the hash as one text: ``~`` for NULL, else
    ``<characters>:<text>``; times already in the hashed text form."""
    table = AuditRecord.__table__
    parts: list[ColumnElement[Any]] = []
    for name in (*HASHED_FIELDS, "hash"):
        column = table.c[name]
        if name in _TIMES:
            text: ColumnElement[Any] = func.date_format(column, _MYSQL_TIMESTAMP)
        elif name in _INTEGERS:
            text = cast(column, CHAR)
        else:
            text = column
        parts.append(func.coalesce(
            func.concat(func.char_length(text), ":", text), literal(_NULL)))
    return func.concat(*parts)


# What each packed field becomes: text, int, JSON, or a time to re-check.
_KINDS = tuple(1 if name in _INTEGERS else 2 if name == "details"
               else 3 if name in _TIMES else 0 for name in (*HASHED_FIELDS, "hash"))


def _unpack(row: Sequence[Any]) -> list[Any]:
    """The values :func:`_packed_row` packed, typed as the columns read them."""
    packed: str = row[0]
    index = packed.index
    values: list[Any] = []
    pos = 0
    for kind in _KINDS:
        if packed[pos] == _NULL:
            values.append(None)
            pos += 1
            continue
        colon = index(":", pos)
        stop = colon + 1 + int(packed[pos:colon])
        text = packed[colon + 1:stop]
        pos = stop
        if kind == 0:
            values.append(text)
        elif kind == 1:
            values.append(int(text))
        elif kind == 2:
            values.append(json.loads(text))
        elif text.startswith("0"):
            # Years before 1000: MySQL pads them, the hashed form never did.
            values.append(timestamp(datetime.fromisoformat(text[:-1])))
        else:
            values.append(text)
    if pos != len(packed):
        raise ValueError(f"packed record {values[0]!r} has trailing data")
    return values
