"""Applying what the registry reports (through the syncer) to the catalog.

Every function is naturally idempotent (upserts, deletes of what is there),
so a redelivered or reordered event leaves the same state.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from berth.catalog import names
from berth.catalog.models import Namespace, Registry, Repository, Tag, Team, User
from berth.catalog.services import name_index, repository_count
from berth.catalog.services.context import Ctx, insert_or_get
from berth.catalog.services.registries import by_service, ensure_global
from berth.common.events import catalog as ev
from berth.common.events.registry import ManifestPulled, ManifestPushed, TagRemoved
from sqlalchemy import select

log = structlog.get_logger(__name__)


def parse_time(value: str | None) -> datetime:
    """Naive UTC from an ISO timestamp (now when missing or malformed)."""
    if value:
        try:
            when = datetime.fromisoformat(value)
            if when.tzinfo is not None:
                when = when.astimezone(UTC).replace(tzinfo=None)
            return when
        except ValueError:
            pass
    return datetime.now(UTC).replace(tzinfo=None)


def _namespace(ctx: Ctx, registry: Registry, ns_name: str | None,
               create: bool) -> Namespace | None:
    if ns_name is None:
        return ensure_global(ctx.session, registry)

    def find() -> Namespace | None:
        return ctx.session.scalar(select(Namespace).where(
            Namespace.registry_id == registry.id, Namespace.name == ns_name))

    found = find()
    if found is not None or not create:
        return found
    # Only an admin (or Berth itself) can have pushed here: the policy refuses
    # everyone else. The new namespace belongs to the global team, private.
    global_ns = ensure_global(ctx.session, registry)
    team = ctx.session.get(Team, global_ns.team_id)
    ns = insert_or_get(ctx.session, Namespace(
        registry_id=registry.id, name=ns_name, team_id=team.id if team else 0,
        visibility="private", description="created by a push"), find)
    ctx.emit(ev.NamespaceCreated(entity_id=ns.id, name=ns.name, namespace=ns.name,
                                 registry=registry.service,
                                 details={"created_by": "push"}))
    log.info("namespace_created_by_push", namespace=ns_name,
             registry=registry.service)
    return ns


def _repository(ctx: Ctx, registry: Registry, full_name: str,
                create: bool) -> Repository | None:
    if names.repository_problem(full_name):
        raise ValueError(f"invalid repository name {full_name!r}")
    ns_name, name = names.split_repository(full_name)
    ns = _namespace(ctx, registry, ns_name, create)
    if ns is None:
        return None

    def find() -> Repository | None:
        return ctx.session.scalar(select(Repository).where(
            Repository.namespace_id == ns.id, Repository.name == name))

    repo = find()
    if repo is None and create:
        repository_count.add(ctx.session, ns.id, 1)  # first: see repository_count
        created = Repository(namespace_id=ns.id, name=name)
        repo = insert_or_get(ctx.session, created, find)
        if repo is created:
            name_index.index_names(ctx.session, [(repo.id, repo.name)])
        else:  # a concurrent writer added it (and counted and indexed it)
            repository_count.add(ctx.session, ns.id, -1)
        ctx.emit(ev.RepositoryCreated(entity_id=repo.id, name=name, namespace=ns.name,
                                      repository=full_name, registry=registry.service))
    return repo


def _registry(ctx: Ctx, service: str) -> Registry | None:
    registry = by_service(ctx.session, service)
    if registry is None:
        log.warning("registry_event_unknown_registry", registry=service)
    return registry


def apply_push(ctx: Ctx, event: ManifestPushed, occurred_at: str) -> str:
    """Create or update the repository and (when pushed by tag) the tag."""
    registry = _registry(ctx, event.registry)
    if registry is None:
        return "unknown_registry"
    repo = _repository(ctx, registry, event.repository, create=True)
    assert repo is not None
    if not event.tag:
        return "repository_only"
    author = None
    if event.actor:
        author = ctx.session.scalar(select(User).where(User.username == event.actor))
    when = parse_time(occurred_at)

    def find() -> Tag | None:
        return ctx.session.scalar(select(Tag).where(Tag.repository_id == repo.id,
                                                    Tag.name == event.tag))

    tag = find()
    if tag is None:
        tag = insert_or_get(ctx.session, Tag(
            repository_id=repo.id, name=event.tag, digest=event.digest,
            media_type=event.media_type, size=event.size,
            author_id=author.id if author else None, author_name=event.actor,
            pushed_at=when), find)
    elif tag.pushed_at > when and tag.digest != event.digest:
        return "stale"  # an older push delivered late must not roll the tag back
    elif event.origin == "reconcile" and tag.digest == event.digest:
        # A reconcile only confirms what a push already told us: keep who
        # pushed and when, fill in what was missing.
        tag.media_type = tag.media_type or event.media_type
        tag.size = tag.size if tag.size is not None else event.size
        return "confirmed"
    else:
        if tag.digest != event.digest and not event.actor:
            tag.author_id, tag.author_name = None, None  # who moved it is unknown
        tag.digest = event.digest
        tag.media_type = event.media_type or tag.media_type
        tag.size = event.size if event.size is not None else tag.size
        if event.actor:
            tag.author_id = author.id if author else None
            tag.author_name = event.actor
        tag.pushed_at = when
    ctx.session.flush()
    ctx.emit(ev.TagPushed(entity_id=tag.id, name=tag.name,
                          namespace=repo.namespace.name, repository=event.repository,
                          registry=registry.service,
                          details={"digest": event.digest, "author": event.actor}))
    return "tag_pushed"


def apply_pull(ctx: Ctx, event: ManifestPulled, occurred_at: str) -> str:
    """Record when the tags of a digest were last pulled."""
    registry = _registry(ctx, event.registry)
    if registry is None:
        return "unknown_registry"
    repo = _repository(ctx, registry, event.repository, create=False)
    if repo is None:
        return "unknown_repository"
    when = parse_time(occurred_at)
    query = select(Tag).where(Tag.repository_id == repo.id)
    query = (query.where(Tag.name == event.tag) if event.tag
             else query.where(Tag.digest == event.digest))
    for tag in ctx.session.scalars(query):
        if tag.pulled_at is None or tag.pulled_at < when:
            tag.pulled_at = when
    return "pulled"


def _remove_tags(ctx: Ctx, registry: Registry, repo: Repository,
                 tags: list[Tag]) -> int:
    for tag in tags:
        ctx.emit(ev.TagDeleted(entity_id=tag.id, name=tag.name,
                               namespace=repo.namespace.name,
                               repository=repo.full_name, registry=registry.service,
                               details={"digest": tag.digest, "origin": "registry"}))
        ctx.session.delete(tag)
    ctx.session.flush()
    remaining = ctx.session.scalar(select(Tag.id).where(
        Tag.repository_id == repo.id).limit(1))
    if remaining is None:
        ctx.emit(ev.RepositoryDeleted(entity_id=repo.id, name=repo.name,
                                      namespace=repo.namespace.name,
                                      repository=repo.full_name,
                                      registry=registry.service,
                                      details={"origin": "registry"}))
        repository_count.add(ctx.session, repo.namespace_id, -1)
        ctx.session.delete(repo)
        ctx.session.flush()
    return len(tags)


def apply_manifest_deleted(ctx: Ctx, registry_service: str, repository: str,
                           digest: str) -> str:
    """Remove every tag with ``digest``; remove the repository once empty."""
    registry = _registry(ctx, registry_service)
    if registry is None:
        return "unknown_registry"
    repo = _repository(ctx, registry, repository, create=False)
    if repo is None:
        return "unknown_repository"
    tags = list(ctx.session.scalars(select(Tag).where(
        Tag.repository_id == repo.id, Tag.digest == digest)))
    removed = _remove_tags(ctx, registry, repo, tags)
    return f"removed_{removed}"


def apply_tag_removed(ctx: Ctx, event: TagRemoved) -> str:
    """Reconcile saw a tag disappear: drop it (if it still has that digest)."""
    registry = _registry(ctx, event.registry)
    if registry is None:
        return "unknown_registry"
    repo = _repository(ctx, registry, event.repository, create=False)
    if repo is None:
        return "unknown_repository"
    query = select(Tag).where(Tag.repository_id == repo.id, Tag.name == event.tag)
    if event.digest:
        query = query.where(Tag.digest == event.digest)
    removed = _remove_tags(ctx, registry, repo, list(ctx.session.scalars(query)))
    return f"removed_{removed}"
