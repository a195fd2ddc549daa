"""Substring search over what the caller may see."""

from __future__ import annotations

from berth.catalog.models import Namespace, Repository, Team
from berth.catalog.services import access, teams
from berth.catalog.services.context import Ctx
from berth.common.web import Page, escape_like
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload


def _pattern(q: str) -> str:
    return f"%{escape_like(q.lower())}%"


def repositories(ctx: Ctx, q: str, page: Page) -> tuple[list[Repository], int]:
    """Repositories whose name or namespace/name matches ``q``."""
    visible = access.visible_namespaces(ctx.session, ctx.subject, ctx.knobs)
    pattern = _pattern(q)
    full = func.lower(Namespace.name + "/" + Repository.name)
    where = visible & (func.lower(Repository.name).like(pattern, escape="\\")
                       | full.like(pattern, escape="\\"))
    joined = select(Repository).join(Namespace, Namespace.id == Repository.namespace_id)
    total = ctx.session.scalar(select(func.count(Repository.id)).join(
        Namespace, Namespace.id == Repository.namespace_id).where(where)) or 0
    rows = ctx.session.scalars(
        joined.options(joinedload(Repository.namespace)
                       .joinedload(Namespace.registry_ref))
        .where(where).order_by(Repository.name, Repository.id)
        .offset(page.offset).limit(page.per_page)).unique()
    return list(rows), total


def namespaces(ctx: Ctx, q: str, page: Page) -> tuple[list[Namespace], int]:
    """Visible namespaces whose name matches ``q``."""
    visible = access.visible_namespaces(ctx.session, ctx.subject, ctx.knobs)
    where = (visible & Namespace.is_global.is_(False)
             & func.lower(Namespace.name).like(_pattern(q), escape="\\"))
    total = ctx.session.scalar(select(func.count(Namespace.id)).where(where)) or 0
    rows = ctx.session.scalars(
        select(Namespace).options(joinedload(Namespace.team)).where(where)
        .order_by(Namespace.name, Namespace.id)
        .offset(page.offset).limit(page.per_page))
    return list(rows), total


def teams_matching(ctx: Ctx, q: str, page: Page) -> tuple[list[Team], int]:
    """Teams the caller may see whose name matches ``q``."""
    if ctx.subject.anonymous:
        return [], 0
    where = teams.visible_filter(ctx) & func.lower(Team.name).like(_pattern(q),
                                                                   escape="\\")
    total = ctx.session.scalar(select(func.count(Team.id)).where(where)) or 0
    rows = ctx.session.scalars(select(Team).where(where).order_by(Team.name, Team.id)
                               .offset(page.offset).limit(page.per_page))
    return list(rows), total
