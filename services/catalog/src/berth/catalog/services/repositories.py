"""Repositories and tags as the API sees them; deletes go through the registry
(via the syncer) first, then the rows go and events are emitted."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from berth.catalog import errors, policy
from berth.catalog.models import Namespace, Repository, Star, Tag
from berth.catalog.services import access, repository_count
from berth.catalog.services.context import Ctx
from berth.catalog.services.registry_ops import (
    ManifestGone,
    RegistryDown,
    RegistryOperations,
)
from berth.common.events import catalog as ev
from berth.common.web import Page
from sqlalchemy import ColumnElement, case, false, func, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.strategy_options import _AbstractLoad

SORT_KEYS = ("name", "id", "created_at", "updated_at")
TAG_SORT_KEYS = ("name", "id", "pushed_at", "created_at", "updated_at", "size")


def _load_repo() -> tuple[_AbstractLoad, ...]:
    return (joinedload(Repository.namespace).joinedload(Namespace.registry_ref),)


def list_visible(ctx: Ctx, page: Page,
                 namespace_id: int | None = None) -> tuple[list[Repository], int]:
    """A page of repositories in namespaces the caller may see, and the total.

    The visible namespaces are read first (few rows): their counts make the
    total, and the page is then a walk of one repositories index in sort
    order (joined to namespaces, MariaDB starts from the namespaces and sorts
    every repository).
    """
    spaces = select(Namespace.id, Namespace.repositories_count).where(
        access.visible_namespaces(ctx.session, ctx.subject, ctx.knobs))
    if namespace_id is not None:
        spaces = spaces.where(Namespace.id == namespace_id)
    counts = {ns_id: n for ns_id, n in ctx.session.execute(spaces)}
    total = sum(counts.values())
    filters: list[ColumnElement[bool]] = []
    if namespace_id is not None or not access.sees_every_namespace(ctx.subject):
        filters.append(Repository.namespace_id.in_(list(counts)))
    column = getattr(Repository, page.sort_attr)
    order = (column.desc() if page.descending else column.asc(), Repository.id)
    if namespace_id is not None and page.sort_attr == "name":
        # Names are unique in a namespace: without the redundant tie-break the
        # (namespace_id, name) index gives the order (MariaDB sorted instead).
        order = order[:1]
    if page.all:
        return list(ctx.session.scalars(
            select(Repository).options(*_load_repo()).where(*filters)
            .order_by(*order)).unique()), total
    ids = list(ctx.session.scalars(select(Repository.id).where(*filters)
                                   .order_by(*order).offset(page.offset)
                                   .limit(page.per_page)))
    found = {r.id: r for r in ctx.session.scalars(
        select(Repository).options(*_load_repo()).where(Repository.id.in_(ids)))
        .unique()}
    return [found[i] for i in ids if i in found], total


@dataclass(frozen=True)
class RepoStats:
    """Aggregates shown with repositories."""

    stars: dict[int, int]
    tags: dict[int, int]
    starred: set[int]


def stats(ctx: Ctx, ids: list[int]) -> RepoStats:
    """Stars, tag counts and the caller's stars for ``ids`` (two queries)."""
    if not ids:
        return RepoStats({}, {}, set())
    mine = Star.user_id == ctx.user_id if ctx.user_id is not None else false()
    stars: dict[int, int] = {}
    starred: set[int] = set()
    for repo_id, count, by_caller in ctx.session.execute(
            select(Star.repository_id, func.count(Star.id),
                   func.sum(case((mine, 1), else_=0)))
            .where(Star.repository_id.in_(ids)).group_by(Star.repository_id)):
        stars[repo_id] = count
        if by_caller:
            starred.add(repo_id)
    tags = dict(ctx.session.execute(
        select(Tag.repository_id, func.count(Tag.id))
        .where(Tag.repository_id.in_(ids)).group_by(Tag.repository_id)).all())
    return RepoStats(stars, tags, starred)


def get_visible(ctx: Ctx, repository_id: int) -> tuple[Repository, policy.NamespaceFacts]:
    """A repository the caller may see (404 otherwise) and its namespace facts."""
    repo = ctx.session.scalar(select(Repository).options(*_load_repo())
                              .where(Repository.id == repository_id))
    if repo is None:
        raise errors.not_found("repository")
    facts = access.facts_for(ctx.session, repo.namespace, ctx.subject)
    if not policy.can_pull(ctx.subject, facts, ctx.knobs).allowed:
        raise errors.not_found("repository")
    return repo, facts


def can_destroy(ctx: Ctx, facts: policy.NamespaceFacts) -> bool:
    """Whether the caller may delete images of a namespace."""
    return policy.can_delete(ctx.subject, facts, ctx.knobs).allowed


def update(ctx: Ctx, repository_id: int, description: str | None) -> Repository:
    """Change a repository's description (namespace managers and pushers)."""
    repo, facts = get_visible(ctx, repository_id)
    if description is not None and description != repo.description:
        decision = policy.can_push(ctx.subject, facts, ctx.knobs)
        if not decision.allowed:
            raise errors.denied(decision.rule)
        repo.description = description
        ctx.session.flush()
        ctx.emit(ev.RepositoryUpdated(entity_id=repo.id, name=repo.name,
                                      namespace=repo.namespace.name,
                                      repository=repo.full_name,
                                      details={"changed": ["description"]}))
    return repo


def tags_of(ctx: Ctx, repo: Repository, page: Page | None = None) -> list[Tag]:
    """Tags of a repository (one query), newest push first unless sorted."""
    query = select(Tag).where(Tag.repository_id == repo.id)
    if page is not None:
        column = getattr(Tag, page.sort_attr)
        query = query.order_by(column.desc() if page.descending else column.asc())
        if page.sort_attr != "name":  # names are unique in a repository
            query = query.order_by(Tag.id)
        if not page.all:
            query = query.offset(page.offset).limit(page.per_page)
    else:
        query = query.order_by(Tag.pushed_at.desc(), Tag.id)
    return list(ctx.session.scalars(query))


def count_tags(ctx: Ctx, repo: Repository) -> int:
    """How many tags ``repo`` has."""
    return ctx.session.scalar(select(func.count(Tag.id)).where(
        Tag.repository_id == repo.id)) or 0


def siblings(ctx: Ctx, tags: list[Tag]) -> dict[int, list[str]]:
    """tag id -> the other tags of its repository sharing its digest (one query)."""
    if not tags:
        return {}
    pairs = {(t.repository_id, t.digest) for t in tags}
    rows = ctx.session.execute(
        select(Tag.id, Tag.repository_id, Tag.digest, Tag.name)
        .where(Tag.repository_id.in_({p[0] for p in pairs}),
               Tag.digest.in_({p[1] for p in pairs}))).all()
    by_key: dict[tuple[int, str], list[tuple[int, str]]] = defaultdict(list)
    for tag_id, repo_id, digest, name in rows:
        by_key[(repo_id, digest)].append((tag_id, name))
    return {t.id: sorted(n for i, n in by_key[(t.repository_id, t.digest)]
                         if i != t.id) for t in tags}


def get_tag(ctx: Ctx, tag_id: int) -> tuple[Tag, Repository, policy.NamespaceFacts]:
    """A tag the caller may see (404 otherwise)."""
    tag = ctx.session.get(Tag, tag_id)
    if tag is None:
        raise errors.not_found("tag")
    try:
        repo, facts = get_visible(ctx, tag.repository_id)
    except errors.NotFound as exc:
        raise errors.not_found("tag") from exc
    return tag, repo, facts


def list_all_tags(ctx: Ctx, page: Page) -> tuple[list[Tag], int]:
    """Every tag (admins), paged."""
    total = ctx.session.scalar(select(func.count(Tag.id))) or 0
    column = getattr(Tag, page.sort_attr)
    query = select(Tag).order_by(column.desc() if page.descending else column.asc(),
                                 Tag.id)
    if not page.all:
        query = query.offset(page.offset).limit(page.per_page)
    return list(ctx.session.scalars(query)), total


def _delete_digest(ops: RegistryOperations, repo: Repository, digest: str) -> None:
    try:
        ops.delete_manifest(repo.namespace.registry_ref.service, repo.full_name, digest)
    except ManifestGone:
        pass  # already gone from the registry: the rows are stale, drop them
    except RegistryDown as exc:
        raise errors.registry_unavailable() from exc


def delete_tag(ctx: Ctx, ops: RegistryOperations, tag_id: int,
               dry_run: bool = False) -> list[Tag]:
    """Delete a tag's manifest, and so every tag sharing its digest; returns them."""
    tag, repo, facts = get_tag(ctx, tag_id)
    decision = policy.can_delete(ctx.subject, facts, ctx.knobs)
    if not decision.allowed:
        raise errors.denied(decision.rule)
    doomed = list(ctx.session.scalars(select(Tag).where(
        Tag.repository_id == repo.id, Tag.digest == tag.digest).order_by(Tag.name)))
    if dry_run:
        return doomed
    _delete_digest(ops, repo, tag.digest)
    for t in doomed:
        ctx.emit(ev.TagDeleted(entity_id=t.id, name=t.name,
                               namespace=repo.namespace.name,
                               repository=repo.full_name,
                               registry=repo.namespace.registry_ref.service,
                               details={"digest": t.digest}))
        ctx.session.delete(t)
    ctx.session.flush()
    if count_tags(ctx, repo) == 0:
        _drop_repository(ctx, repo)
    return doomed


def delete_repository(ctx: Ctx, ops: RegistryOperations, repository_id: int,
                      dry_run: bool = False) -> list[Tag]:
    """Delete every manifest of a repository, then the repository."""
    repo, facts = get_visible(ctx, repository_id)
    decision = policy.can_delete(ctx.subject, facts, ctx.knobs)
    if not decision.allowed:
        raise errors.denied(decision.rule)
    tags = tags_of(ctx, repo)
    if dry_run:
        return tags
    for digest in sorted({t.digest for t in tags}):
        _delete_digest(ops, repo, digest)
        for t in (t for t in tags if t.digest == digest):
            ctx.session.delete(t)
        # If a later digest fails, this transaction rolls back; the manifests
        # already deleted come back as registry delete events, and a retry
        # finds them gone (ManifestGone), so deleting is safe to repeat.
    ctx.session.flush()
    _drop_repository(ctx, repo)
    return tags


def _drop_repository(ctx: Ctx, repo: Repository) -> None:
    ctx.emit(ev.RepositoryDeleted(entity_id=repo.id, name=repo.name,
                                  namespace=repo.namespace.name,
                                  repository=repo.full_name,
                                  registry=repo.namespace.registry_ref.service))
    repository_count.add(ctx.session, repo.namespace_id, -1)
    ctx.session.delete(repo)
    ctx.session.flush()
