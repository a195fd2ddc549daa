"""Reading the log: filters, who may see what, sorting and paging.

Visibility (Portus' activity rule): admins (and Berth's own services) see
every record. Any other user sees the records of their own actions (actor id,
or actor name when the producer only knew the name, as the registry does),
and the records about the namespaces and teams the catalog says they may see
(:class:`berth.audit.memberships.Scope`): records whose target is a namespace
or a team match by id; the others match by namespace name within their
registry (or in any registry when the record names none); a registry's global
namespace covers the records of repositories with no namespace part.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    false,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session

from berth.audit.memberships import Scope
from berth.audit.models import AuditRecord
from berth.common.auth import Principal
from berth.common.web import escape_like

SORT_KEYS = ("occurred_at", "id", "recorded_at", "action", "actor_name")
STREAM_BATCH = 500
# Counting every match for the paging headers reads every matching row (a
# filter by target type that matches the whole log: about 1 s at a million
# records on MariaDB); past this many matches a list says "at least" instead.
COUNT_CAP = 10_000


@dataclass(frozen=True)
class Filters:
    """What a caller asked for; every field optional."""

    actor: str | None = None
    action: str | None = None          # a prefix: "namespace." or "repository.push"
    namespace: str | None = None
    repository: str | None = None
    target_type: str | None = None
    target: str | None = None          # target name
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None


def _among(column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    # Rendered inline: a user may see thousands of public namespaces, more
    # than a statement may have bound parameters on SQLite.
    items = sorted(values)
    if not items:
        return false()
    return column.in_(bindparam(None, items, expanding=True, literal_execute=True))


def _in_scope(scope: Scope) -> list[ColumnElement[bool]]:
    record = AuditRecord
    by_id = [and_(record.target_type == "namespace",
                  _among(record.target_id, {str(i) for i in scope.namespace_ids})),
             and_(record.target_type == "team",
                  _among(record.target_id, {str(i) for i in scope.team_ids}))]
    not_ns_target = or_(record.target_type.is_(None), record.target_type != "namespace")
    by_name = []
    for registry, names in scope.namespaces.items():
        by_name.append(and_(
            not_ns_target, _among(record.namespace, names),
            or_(record.registry_name.is_(None), record.registry_name == registry)))
    for registry in scope.global_registries:
        by_name.append(and_(
            not_ns_target, record.namespace.is_(None), record.repository.isnot(None),
            or_(record.registry_name.is_(None), record.registry_name == registry)))
    return by_id + by_name


def visible_to(principal: Principal, scope: Scope | None = None) -> Select[AuditRecord]:
    """Every record ``principal`` may see: their own actions, plus what ``scope``
    (the catalog's answer for them) covers."""
    query = select(AuditRecord)
    if principal.admin:
        return query
    own_id = (AuditRecord.actor_id == principal.id if principal.id is not None
              else false())
    by_name = and_(AuditRecord.actor_id.is_(None),
                   AuditRecord.actor_name == principal.username)
    extra = _in_scope(scope) if scope is not None else []
    return query.where(or_(own_id, by_name, *extra))


def is_own(principal: Principal, record: AuditRecord) -> bool:
    """Did ``principal`` perform the action ``record`` shows?"""
    if record.actor_id is not None:
        return principal.id is not None and record.actor_id == principal.id
    return record.actor_name == principal.username


def _like(value: str) -> str:
    return f"%{escape_like(value)}%"


def apply_filters(query: Select[AuditRecord],
                  f: Filters) -> Select[AuditRecord]:
    """Narrow ``query`` by ``f``."""
    if f.actor:
        query = query.where(AuditRecord.actor_name == f.actor)
    if f.action:
        prefix = f"{escape_like(f.action)}%"
        query = query.where(AuditRecord.action.like(prefix, escape="\\"))
    if f.namespace:
        query = query.where(AuditRecord.namespace == f.namespace)
    if f.repository:
        query = query.where(AuditRecord.repository == f.repository)
    if f.target_type:
        query = query.where(AuditRecord.target_type == f.target_type)
    if f.target:
        query = query.where(AuditRecord.target_name == f.target)
    if f.since:
        query = query.where(AuditRecord.occurred_at >= f.since)
    if f.until:
        query = query.where(AuditRecord.occurred_at < f.until)
    if f.q:
        pattern = _like(f.q)
        query = query.where(or_(
            AuditRecord.action.like(pattern, escape="\\"),
            AuditRecord.actor_name.like(pattern, escape="\\"),
            AuditRecord.target_name.like(pattern, escape="\\"),
            AuditRecord.namespace.like(pattern, escape="\\"),
            AuditRecord.repository.like(pattern, escape="\\"),
        ))
    return query


def ordered(query: Select[AuditRecord], sort_attr: str,
            descending: bool) -> Select[AuditRecord]:
    """Sort by an allow-listed key, ties broken by id in the same direction."""
    column = getattr(AuditRecord, sort_attr if sort_attr in SORT_KEYS else "id")
    if descending:
        return query.order_by(column.desc(), AuditRecord.id.desc())
    return query.order_by(column.asc(), AuditRecord.id.asc())


@dataclass(frozen=True)
class Total:
    """How many records a list matches; a lower bound when ``capped``."""

    value: int
    capped: bool = False


def count(session: Session, query: Select[AuditRecord],
          cap: int | None = None) -> int:
    """How many records ``query`` matches; past ``cap``, ``cap + 1``."""
    matches: Select[Any] = query.order_by(None).with_only_columns(
        literal_column("1"), maintain_column_froms=True)
    if cap is not None:
        matches = matches.limit(cap + 1)
    total = session.scalar(select(func.count()).select_from(matches.subquery()))
    return int(total or 0)


def page_total(session: Session, query: Select[AuditRecord], offset: int,
               limit: int, shown: int) -> Total:
    """The total of a page of ``limit`` rows from ``offset`` that held ``shown``.

    A page that is not full ends the list, so its total needs no count; past
    :data:`COUNT_CAP` matches the total is a lower bound (never below the
    rows up to the end of this page).
    """
    if shown < limit and (shown or not offset):
        return Total(offset + shown)
    if shown == limit and offset + shown > COUNT_CAP:
        return Total(offset + shown, capped=True)  # a full page past the cap
    total = count(session, query, COUNT_CAP)
    if total > COUNT_CAP:
        return Total(COUNT_CAP, capped=True)
    return Total(total)


def find(session: Session, principal: Principal, record_id: int,
         scope: Scope | None = None) -> AuditRecord | None:
    """One record, or None if it is missing or not visible to ``principal``."""
    query = visible_to(principal, scope).where(AuditRecord.id == record_id)
    return session.scalars(query).first()


def stream(session: Session, query: Select[AuditRecord],
           batch: int | None = None) -> Iterator[AuditRecord]:
    """Yield every record of ``query`` in id order, a batch at a time."""
    batch = batch or STREAM_BATCH
    after = 0
    while True:
        rows = list(session.scalars(query.where(AuditRecord.id > after)
                                    .order_by(AuditRecord.id).limit(batch)))
        # End the transaction before handing rows to a slow client: no lock
        # or snapshot is held while the download waits on the network.
        session.expunge_all()
        session.rollback()
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].id
