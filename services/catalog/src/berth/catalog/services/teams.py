"""Teams and their members. Hidden teams (personal, global) have no members
and never show up to users."""

from __future__ import annotations

from berth.catalog import errors, names, policy
from berth.catalog.models import ROLES, Namespace, Team, TeamUser, User
from berth.catalog.services import access
from berth.catalog.services.context import Ctx
from berth.catalog.services.users import ensure_user_everywhere, upsert_user
from berth.common.events import catalog as ev
from berth.common.web import Page
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import joinedload

SORT_KEYS = ("name", "id", "created_at", "updated_at")


def visible_filter(ctx: Ctx) -> ColumnElement[bool]:
    """Teams the caller may see: admins every visible team, others their own."""
    if ctx.subject.kind == "service" or ctx.subject.admin:
        return Team.hidden.is_(False)
    member = select(TeamUser.team_id).where(TeamUser.user_id == ctx.user_id)
    return Team.hidden.is_(False) & Team.id.in_(member)


def list_teams(ctx: Ctx, page: Page) -> tuple[list[Team], int]:
    """A page of the teams the caller may see, and their total."""
    where = visible_filter(ctx)
    total = ctx.session.scalar(select(func.count(Team.id)).where(where)) or 0
    column = getattr(Team, page.sort_attr)
    query = select(Team).where(where).order_by(
        column.desc() if page.descending else column.asc(), Team.id)
    if not page.all:
        query = query.offset(page.offset).limit(page.per_page)
    return list(ctx.session.scalars(query)), total


def counts(ctx: Ctx, team_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """(enabled members, namespaces) per team, two aggregate queries."""
    if not team_ids:
        return {}, {}
    users = dict(ctx.session.execute(
        select(TeamUser.team_id, func.count(TeamUser.id))
        .join(User, User.id == TeamUser.user_id)
        .where(TeamUser.team_id.in_(team_ids), User.enabled.is_(True))
        .group_by(TeamUser.team_id)).all())
    spaces = dict(ctx.session.execute(
        select(Namespace.team_id, func.count(Namespace.id))
        .where(Namespace.team_id.in_(team_ids)).group_by(Namespace.team_id)).all())
    return users, spaces


def role_in(ctx: Ctx, team: Team) -> str | None:
    """The caller's role in ``team``."""
    return access.roles_of(ctx.session, ctx.user_id, [team.id]).get(team.id)


def get_visible(ctx: Ctx, team_id: int) -> tuple[Team, str | None]:
    """A team the caller may see (404 otherwise) and the caller's role in it."""
    team = ctx.session.get(Team, team_id)
    if team is None:
        raise errors.not_found("team")
    role = role_in(ctx, team)
    if not policy.can_view_team(ctx.subject, role, team.hidden).allowed:
        raise errors.not_found("team")
    return team, role


def _check_manage(ctx: Ctx, team: Team, role: str | None) -> None:
    decision = policy.can_manage_team(ctx.subject, role, team.hidden, ctx.knobs)
    if not decision.allowed:
        raise errors.denied(decision.rule)


def _unique_name(ctx: Ctx, name: str, current: Team | None = None) -> None:
    problem = names.team_problem(name)
    if problem:
        raise errors.name_invalid("name", problem)
    other = ctx.session.scalar(select(Team).where(Team.name == name))
    if other is not None and (current is None or other.id != current.id):
        raise errors.name_taken("name", name)


def create(ctx: Ctx, name: str, description: str | None,
           owner_id: int | None) -> Team:
    """Create a team; the caller (or, for admins, ``owner_id``) owns it."""
    decision = policy.can_create_team(ctx.subject, ctx.knobs)
    if not decision.allowed:
        raise errors.denied(decision.rule)
    _unique_name(ctx, name)
    owner = ctx.user_id
    if owner_id is not None and ctx.subject.admin:
        if ctx.session.get(User, owner_id) is None:
            raise errors.Invalid("owner_id is not a known user",
                                 detail={"field": "owner_id"})
        owner = owner_id
    team = Team(name=name, description=description or "")
    ctx.session.add(team)
    ctx.session.flush()
    if owner is not None:
        ctx.session.add(TeamUser(team_id=team.id, user_id=owner, role="owner"))
        ctx.session.flush()
    ctx.emit(ev.TeamCreated(entity_id=team.id, name=team.name,
                            details={"owner_id": owner}))
    return team


def update(ctx: Ctx, team_id: int, name: str | None,
           description: str | None) -> Team:
    """Rename a team or change its description."""
    team, role = get_visible(ctx, team_id)
    _check_manage(ctx, team, role)
    changed = []
    if name is not None and name != team.name:
        _unique_name(ctx, name, team)
        team.name = name
        changed.append("name")
    if description is not None and description != team.description:
        team.description = description
        changed.append("description")
    if changed:
        ctx.session.flush()
        ctx.emit(ev.TeamUpdated(entity_id=team.id, name=team.name,
                                details={"changed": changed}))
    return team


def delete(ctx: Ctx, team_id: int, new_team: str | None,
           delete_namespaces: bool) -> None:
    """Delete a team, moving its namespaces to ``new_team_id`` or deleting them."""
    team, role = get_visible(ctx, team_id)
    _check_manage(ctx, team, role)
    spaces = list(ctx.session.scalars(select(Namespace).where(
        Namespace.team_id == team.id)))
    if spaces:
        if new_team is not None:
            target_id = ctx.session.scalar(select(Team.id).where(
                Team.name == new_team, Team.hidden.is_(False)))
            if target_id is None:
                raise errors.Invalid(f"unknown team {new_team!r}",
                                     detail={"field": "new_team"})
            target, target_role = get_visible(ctx, target_id)
            if target.id == team.id:
                raise errors.Invalid("new_team must be another team",
                                     detail={"field": "new_team"})
            _check_manage(ctx, target, target_role)
            for ns in spaces:
                ns.team_id = target.id
                ctx.emit(ev.NamespaceTeamChanged(
                    entity_id=ns.id, name=ns.name, namespace=ns.name,
                    details={"from_team": team.name, "to_team": target.name}))
        elif delete_namespaces:
            if not ctx.knobs.delete_enabled and not ctx.subject.admin:
                raise errors.denied("delete_disabled")
            for ns in spaces:
                ctx.emit(ev.NamespaceDeleted(entity_id=ns.id, name=ns.name,
                                             namespace=ns.name))
                ctx.session.delete(ns)
        else:
            raise errors.Conflict(
                "the team owns namespaces: give new_team or delete_namespaces=true",
                detail={"namespaces": [ns.name for ns in spaces]})
    ctx.session.flush()
    ctx.emit(ev.TeamDeleted(entity_id=team.id, name=team.name))
    ctx.session.delete(team)
    ctx.session.flush()


def members(ctx: Ctx, team_id: int) -> list[TeamUser]:
    """The members of a team the caller may see, with their users (one query)."""
    team, _ = get_visible(ctx, team_id)
    return list(ctx.session.scalars(
        select(TeamUser).options(joinedload(TeamUser.user))
        .where(TeamUser.team_id == team.id).order_by(TeamUser.id)))


def personal_namespaces(ctx: Ctx, user_ids: list[int]) -> dict[int, int]:
    """user id -> id of their personal namespace (first registry; one query)."""
    if not user_ids:
        return {}
    rows = ctx.session.execute(
        select(Namespace.owner_user_id, Namespace.id)
        .where(Namespace.personal.is_(True), Namespace.owner_user_id.in_(user_ids))
        .order_by(Namespace.registry_id.desc())).all()
    return {uid: ns_id for uid, ns_id in rows if uid is not None}


def _role(value: str | None) -> str:
    if value is None or value not in ROLES:
        raise errors.Invalid(f"role must be one of {', '.join(ROLES)}",
                             detail={"field": "role"})
    return value


def _owners(ctx: Ctx, team_id: int) -> int:
    return ctx.session.scalar(select(func.count(TeamUser.id)).where(
        TeamUser.team_id == team_id, TeamUser.role == "owner")) or 0


def _not_yet_mirrored(ctx: Ctx, username: str) -> User | None:
    """A user created moments ago, whose creation event is still on its way."""
    if ctx.lookup_user is None:
        return None
    known = ctx.lookup_user(username)
    if known is None or known.username != username:
        return None
    user = upsert_user(ctx.session, known.id, known.username, admin=known.admin,
                       enabled=known.enabled, bot=known.bot)
    ensure_user_everywhere(ctx.session, user, ctx.emit)
    return user


def add_member(ctx: Ctx, team_id: int, username: str, role: str) -> TeamUser:
    """Add a user (by name) to a team with ``role``."""
    team, my_role = get_visible(ctx, team_id)
    _check_manage(ctx, team, my_role)
    _role(role)
    user = ctx.session.scalar(select(User).where(User.username == username)) \
        or _not_yet_mirrored(ctx, username)
    if user is None:
        raise errors.Invalid(f"unknown user {username!r}", detail={"field": "user"})
    exists = ctx.session.scalar(select(TeamUser).where(
        TeamUser.team_id == team.id, TeamUser.user_id == user.id))
    if exists is not None:
        raise errors.Conflict(f"{username} is already a member",
                              detail={"field": "user"})
    member = TeamUser(team_id=team.id, user_id=user.id, role=role)
    ctx.session.add(member)
    ctx.session.flush()
    ctx.emit(ev.TeamMemberAdded(entity_id=team.id, name=team.name,
                                details={"user": user.username, "user_id": user.id,
                                         "role": role}))
    return member


def _member(ctx: Ctx, team: Team, member_id: int) -> TeamUser:
    member = ctx.session.get(TeamUser, member_id)
    if member is None or member.team_id != team.id:
        raise errors.not_found("team member")
    return member


def update_member(ctx: Ctx, team_id: int, member_id: int, role: str) -> TeamUser:
    """Change a member's role; the last owner stays an owner."""
    team, my_role = get_visible(ctx, team_id)
    _check_manage(ctx, team, my_role)
    member = _member(ctx, team, member_id)
    _role(role)
    if member.role == "owner" and role != "owner" and _owners(ctx, team.id) <= 1:
        raise errors.Conflict("a team needs at least one owner", code=errors.LAST_OWNER)
    if member.role != role:
        old, member.role = member.role, role
        ctx.session.flush()
        ctx.emit(ev.TeamMemberRoleChanged(
            entity_id=team.id, name=team.name,
            details={"user_id": member.user_id, "from": old, "to": role}))
    return member


def remove_member(ctx: Ctx, team_id: int, member_id: int) -> None:
    """Remove a member; the last owner can't be removed."""
    team, my_role = get_visible(ctx, team_id)
    _check_manage(ctx, team, my_role)
    member = _member(ctx, team, member_id)
    if member.role == "owner" and _owners(ctx, team.id) <= 1:
        raise errors.Conflict("a team needs at least one owner", code=errors.LAST_OWNER)
    ctx.emit(ev.TeamMemberRemoved(entity_id=team.id, name=team.name,
                                  details={"user_id": member.user_id}))
    ctx.session.delete(member)
    ctx.session.flush()


