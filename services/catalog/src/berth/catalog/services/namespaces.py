"""Namespaces: visibility, owning team, description; personal and global ones
are protected from deletion and, for the global one, from being private."""

from __future__ import annotations

from berth.catalog import errors, names, policy
from berth.catalog.models import VISIBILITIES, Namespace, Registry, Repository, Team
from berth.catalog.policy import NamespaceFacts
from berth.catalog.services import access, repositories
from berth.catalog.services.context import Ctx
from berth.catalog.services.registries import list_registries
from berth.catalog.services.registry_ops import RegistryOperations
from berth.common.events import catalog as ev
from berth.common.web import Page
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

SORT_KEYS = ("name", "id", "created_at", "updated_at", "visibility")


def list_visible(ctx: Ctx, page: Page, team_id: int | None = None,
                 include_hidden: bool = True) -> tuple[list[Namespace], int]:
    """A page of namespaces the caller may see (with their teams), and the total."""
    where = access.visible_namespaces(ctx.session, ctx.subject, ctx.knobs)
    if team_id is not None:
        where = where & (Namespace.team_id == team_id)
    total = ctx.session.scalar(select(func.count(Namespace.id)).where(where)) or 0
    column = getattr(Namespace, page.sort_attr)
    query = (select(Namespace).options(joinedload(Namespace.team))
             .where(where).order_by(column.desc() if page.descending else column.asc(),
                                    Namespace.id))
    if not page.all:
        query = query.offset(page.offset).limit(page.per_page)
    return list(ctx.session.scalars(query)), total


def repository_counts(ctx: Ctx, ids: list[int]) -> dict[int, int]:
    """namespace id -> number of repositories (one aggregate query)."""
    if not ids:
        return {}
    return dict(ctx.session.execute(
        select(Repository.namespace_id, func.count(Repository.id))
        .where(Repository.namespace_id.in_(ids))
        .group_by(Repository.namespace_id)).all())


def get_visible(ctx: Ctx, namespace_id: int) -> tuple[Namespace, NamespaceFacts]:
    """A namespace the caller may pull from (404 otherwise) and its facts."""
    ns = ctx.session.get(Namespace, namespace_id)
    if ns is None:
        raise errors.not_found("namespace")
    facts = access.facts_for(ctx.session, ns, ctx.subject)
    if not policy.can_pull(ctx.subject, facts, ctx.knobs).allowed:
        raise errors.not_found("namespace")
    return ns, facts


def default_registry(ctx: Ctx) -> Registry:
    """The first registry (Portus' ``Registry.get``)."""
    registries = list_registries(ctx.session)
    if not registries:
        raise errors.Unavailable("no registry is configured")
    return registries[0]


def validate_name(ctx: Ctx, name: str, registry: Registry | None = None,
                  ) -> dict[str, list[str]]:
    """Portus' ``/validate`` messages for a new namespace name."""
    problem = names.namespace_problem(name)
    if problem:
        return {"name": [problem]}
    registry = registry or default_registry(ctx)
    taken = ctx.session.scalar(select(Namespace.id).where(
        Namespace.registry_id == registry.id, Namespace.name == name))
    return {"name": ["has already been taken"]} if taken else {}


def _team_by_name(ctx: Ctx, name: str) -> tuple[Team, str | None]:
    team = ctx.session.scalar(select(Team).where(Team.name == name,
                                                 Team.hidden.is_(False)))
    if team is None:
        raise errors.Invalid(f"unknown team {name!r}", detail={"field": "team"})
    role = access.roles_of(ctx.session, ctx.user_id, [team.id]).get(team.id)
    if not (ctx.subject.admin or role):
        raise errors.Invalid(f"unknown team {name!r}", detail={"field": "team"})
    return team, role


def create(ctx: Ctx, name: str, team_name: str, description: str | None,
           visibility: str | None = None) -> Namespace:
    """Create a namespace owned by a team the caller contributes to."""
    problem = names.namespace_problem(name)
    if problem:
        raise errors.name_invalid("name", problem)
    team, role = _team_by_name(ctx, team_name)
    decision = policy.can_create_namespace(ctx.subject, role, team.hidden, ctx.knobs)
    if not decision.allowed:
        raise errors.denied(decision.rule)
    visibility = visibility or "private"
    if visibility not in VISIBILITIES:
        raise errors.Invalid("visibility must be private, protected or public",
                             detail={"field": "visibility"})
    registry = default_registry(ctx)
    if validate_name(ctx, name, registry):
        raise errors.name_taken("name", name)
    ns = Namespace(registry_id=registry.id, name=name, team_id=team.id,
                   visibility=visibility, description=description or "")
    ctx.session.add(ns)
    ctx.session.flush()
    ctx.emit(ev.NamespaceCreated(entity_id=ns.id, name=ns.name, namespace=ns.name,
                                 registry=registry.service,
                                 details={"team": team.name, "visibility": visibility}))
    return ns


def update(ctx: Ctx, namespace_id: int, *, visibility: str | None = None,
           description: str | None = None, team_name: str | None = None,
           name: str | None = None) -> Namespace:
    """Change visibility, description, owning team (and name, if unused)."""
    ns, facts = get_visible(ctx, namespace_id)
    if visibility is not None and visibility != ns.visibility:
        if visibility not in VISIBILITIES:
            raise errors.Invalid("visibility must be private, protected or public",
                                 detail={"field": "visibility"})
        decision = policy.can_change_visibility(ctx.subject, facts, visibility,
                                                ctx.knobs)
        if not decision.allowed:
            raise errors.denied(decision.rule)
        old, ns.visibility = ns.visibility, visibility
        ctx.emit(ev.NamespaceVisibilityChanged(
            entity_id=ns.id, name=ns.name, namespace=ns.name,
            details={"from": old, "to": visibility}))
    wants_manage = ((description is not None and description != ns.description)
                    or (team_name is not None and team_name != ns.team.name)
                    or (name is not None and name != ns.name))
    if wants_manage:
        decision = policy.can_manage_namespace(ctx.subject, facts, ctx.knobs)
        if not decision.allowed:
            raise errors.denied(decision.rule)
    if description is not None and description != ns.description:
        ns.description = description
        ctx.emit(ev.NamespaceDescriptionChanged(entity_id=ns.id, name=ns.name,
                                                namespace=ns.name))
    if team_name is not None and team_name != ns.team.name:
        if ns.kind != "team":
            raise errors.Invalid("personal and global namespaces keep their team",
                                 code=errors.PROTECTED_NAMESPACE,
                                 detail={"field": "team"})
        team, role = _team_by_name(ctx, team_name)
        if not (ctx.subject.admin or role == "owner"):
            raise errors.denied("target_team_owners_only")
        old_team, ns.team_id = ns.team.name, team.id
        ctx.emit(ev.NamespaceTeamChanged(entity_id=ns.id, name=ns.name,
                                         namespace=ns.name,
                                         details={"from_team": old_team,
                                                  "to_team": team.name}))
    if name is not None and name != ns.name:
        _rename(ctx, ns, name)
    ctx.session.flush()
    ctx.session.refresh(ns)
    return ns


def _rename(ctx: Ctx, ns: Namespace, name: str) -> None:
    # Renaming would orphan the images stored under the old name in the
    # registry, so only an empty team namespace may be renamed.
    if ns.kind != "team":
        raise errors.Invalid("personal and global namespaces can't be renamed",
                             code=errors.PROTECTED_NAMESPACE, detail={"field": "name"})
    if repository_counts(ctx, [ns.id]).get(ns.id):
        raise errors.Conflict("only an empty namespace can be renamed")
    problem = names.namespace_problem(name)
    if problem:
        raise errors.name_invalid("name", problem)
    if validate_name(ctx, name, ns.registry_ref):
        raise errors.name_taken("name", name)
    old, ns.name = ns.name, name
    ctx.emit(ev.NamespaceRenamed(entity_id=ns.id, name=name, namespace=name,
                                 details={"renamed_from": old}))


def delete(ctx: Ctx, ops: RegistryOperations, namespace_id: int) -> Namespace:
    """Delete a team namespace; its repositories' images go first (as Portus)."""
    ns, facts = get_visible(ctx, namespace_id)
    decision = policy.can_delete_namespace(ctx.subject, facts, ctx.knobs)
    if not decision.allowed:
        raise errors.denied(decision.rule)
    repo_ids = list(ctx.session.scalars(select(Repository.id).where(
        Repository.namespace_id == ns.id)))
    if repo_ids:
        images = policy.can_delete(ctx.subject, facts, ctx.knobs)
        if not images.allowed:
            raise errors.denied(images.rule)
        for repo_id in repo_ids:
            repositories.delete_repository(ctx, ops, repo_id)
    ctx.emit(ev.NamespaceDeleted(entity_id=ns.id, name=ns.name, namespace=ns.name,
                                 registry=ns.registry_ref.service))
    ctx.session.delete(ns)
    ctx.session.flush()
    return ns
