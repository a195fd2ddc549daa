"""Substring search over what the caller may see."""

from __future__ import annotations

from berth.catalog.models import Namespace, Repository, Team
from berth.catalog.services import access, name_index, teams
from berth.catalog.services.context import Ctx
from berth.catalog.services.paging import total_of
from berth.common.web import Page, escape_like
from sqlalchemy import ColumnElement, CompoundSelect, Select, func, select, union
from sqlalchemy.orm import joinedload

# Above this many candidates the suffix index saves little over reading every
# name, and the id list would be too long to send back: scan instead.
MAX_CANDIDATES = 5_000


def _pattern(q: str) -> str:
    return f"%{escape_like(q.lower())}%"


def _namespaces_like(pattern: str) -> Select[tuple[int]]:
    return select(Namespace.id).where(
        func.lower(Namespace.name).like(pattern, escape="\\"))


def _candidates(q: str) -> CompoundSelect:
    """Ids of every repository whose name or namespace/name may contain ``q``.

    An occurrence in ``namespace/name`` lies in the name (the suffix index),
    in the namespace's name, or across the ``/`` between them: then ``q``
    splits at one of its ``/`` into an end of the namespace's name and a
    start of the repository's name (names are lower case by the grammar).
    """
    parts: list[Select[tuple[int]]] = [
        name_index.candidates(q),
        select(Repository.id).where(
            Repository.namespace_id.in_(_namespaces_like(_pattern(q))))]
    for i, char in enumerate(q):
        if char == "/":
            left, right = q[:i], q[i + 1:]
            parts.append(select(Repository.id).where(
                Repository.name.like(escape_like(right) + "%", escape="\\"),
                Repository.namespace_id.in_(
                    _namespaces_like("%" + escape_like(left)))))
    return union(*parts)


def _repository_match(ctx: Ctx, q: str) -> ColumnElement[bool]:
    """The exact substring test, narrowed to the candidates when they are few."""
    pattern = _pattern(q)
    full = func.lower(Namespace.name + "/" + Repository.name)
    exact = (func.lower(Repository.name).like(pattern, escape="\\")
             | full.like(pattern, escape="\\"))
    ids = list(ctx.session.scalars(_candidates(q.lower()).limit(MAX_CANDIDATES + 1)))
    if len(ids) > MAX_CANDIDATES:
        return exact
    return Repository.id.in_(ids) & exact


def repositories(ctx: Ctx, q: str, page: Page) -> tuple[list[Repository], int]:
    """Repositories whose name or namespace/name matches ``q``."""
    visible = access.visible_namespaces(ctx.session, ctx.subject, ctx.knobs)
    where = visible & _repository_match(ctx, q)
    joined = select(Repository).join(Namespace, Namespace.id == Repository.namespace_id)
    rows = list(ctx.session.scalars(
        joined.options(joinedload(Repository.namespace)
                       .joinedload(Namespace.registry_ref))
        .where(where).order_by(Repository.name, Repository.id)
        .offset(page.offset).limit(page.per_page)).unique())
    return rows, total_of(page, len(rows), lambda: ctx.session.scalar(
        select(func.count(Repository.id)).join(
            Namespace, Namespace.id == Repository.namespace_id).where(where)) or 0)


def namespaces(ctx: Ctx, q: str, page: Page) -> tuple[list[Namespace], int]:
    """Visible namespaces whose name matches ``q``."""
    visible = access.visible_namespaces(ctx.session, ctx.subject, ctx.knobs)
    where = (visible & Namespace.is_global.is_(False)
             & func.lower(Namespace.name).like(_pattern(q), escape="\\"))
    rows = list(ctx.session.scalars(
        select(Namespace).options(joinedload(Namespace.team)).where(where)
        .order_by(Namespace.name, Namespace.id)
        .offset(page.offset).limit(page.per_page)))
    return rows, total_of(page, len(rows), lambda: ctx.session.scalar(
        select(func.count(Namespace.id)).where(where)) or 0)


def teams_matching(ctx: Ctx, q: str, page: Page) -> tuple[list[Team], int]:
    """Teams the caller may see whose name matches ``q``."""
    if ctx.subject.anonymous:
        return [], 0
    where = teams.visible_filter(ctx) & func.lower(Team.name).like(_pattern(q),
                                                                   escape="\\")
    rows = list(ctx.session.scalars(select(Team).where(where)
                                    .order_by(Team.name, Team.id)
                                    .offset(page.offset).limit(page.per_page)))
    return rows, total_of(page, len(rows), lambda: ctx.session.scalar(
        select(func.count(Team.id)).where(where)) or 0)
