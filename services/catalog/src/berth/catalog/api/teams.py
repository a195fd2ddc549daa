"""Teams (Portus lib/api/v1/teams.rb): list, show, create, update, delete,
members and namespaces."""

from __future__ import annotations

from typing import Any

from berth.catalog import policy
from berth.catalog.api import serializers
from berth.catalog.api.helpers import ctx as make_ctx
from berth.catalog.api.helpers import listing
from berth.catalog.api.namespaces import present_namespaces
from berth.catalog.models import Team
from berth.catalog.services import access, namespaces, teams
from berth.catalog.services.context import Ctx
from berth.common.web import field, nested, page_params, request_data
from flask import Blueprint, Response, jsonify, request

bp = Blueprint("teams", __name__, url_prefix="/api/v1/teams")


def present(ctx: Ctx, rows: list[Team]) -> list[dict[str, Any]]:
    """Teams with the caller's role and counts (a constant number of queries)."""
    ids = [t.id for t in rows]
    roles = access.roles_of(ctx.session, ctx.user_id, ids)
    users, spaces = teams.counts(ctx, ids)
    return [serializers.team(
        t, role=roles.get(t.id),
        updatable=policy.can_manage_team(ctx.subject, roles.get(t.id), t.hidden,
                                         ctx.knobs).allowed,
        users_count=users.get(t.id, 0), namespaces_count=spaces.get(t.id, 0))
        for t in rows]


@bp.get("")
def index() -> Response:
    """Teams the caller belongs to (admins: every team)."""
    ctx = make_ctx(login=True)
    page = page_params(teams.SORT_KEYS)
    rows, total = teams.list_teams(ctx, page)
    return listing(present(ctx, rows), page, total)


@bp.post("")
def create() -> tuple[Response, int]:
    """Create a team owned by the caller (admins may name another owner)."""
    ctx = make_ctx(login=True)
    data = nested(request_data(), "team")
    team = teams.create(ctx, field(data, "name"),
                        field(data, "description", required=False, max_length=65535),
                        field(data, "owner_id", required=False, kind=int))
    ctx.session.commit()
    return jsonify(present(ctx, [team])[0]), 201


@bp.get("/<int:team_id>")
def show(team_id: int) -> Response:
    """One team."""
    ctx = make_ctx(login=True)
    team, _ = teams.get_visible(ctx, team_id)
    return jsonify(present(ctx, [team])[0])


@bp.put("/<int:team_id>")
def update(team_id: int) -> Response:
    """Rename a team or change its description (owners, admins)."""
    ctx = make_ctx(login=True)
    data = nested(request_data(), "team")
    team = teams.update(ctx, team_id, field(data, "name", required=False),
                        field(data, "description", required=False, max_length=65535))
    ctx.session.commit()
    return jsonify(present(ctx, [team])[0])


@bp.delete("/<int:team_id>")
def destroy(team_id: int) -> tuple[str, int]:
    """Delete a team; its namespaces move to ``new_team`` (a team name, as in
    Portus) or, with ``delete_namespaces=true``, are deleted."""
    ctx = make_ctx(login=True)
    data = {**request.args.to_dict(), **request_data()}
    teams.delete(ctx, team_id, field(data, "new_team", required=False),
                 bool(field(data, "delete_namespaces", required=False, kind=bool)))
    ctx.session.commit()
    return "", 204


@bp.get("/<int:team_id>/namespaces")
def team_namespaces(team_id: int) -> Response:
    """Namespaces of a team the caller may see."""
    ctx = make_ctx(login=True)
    team, _ = teams.get_visible(ctx, team_id)
    page = page_params(namespaces.SORT_KEYS)
    rows, total = namespaces.list_visible(ctx, page, team_id=team.id)
    return listing(present_namespaces(ctx, rows), page, total)


@bp.get("/<int:team_id>/members")
def members(team_id: int) -> Response:
    """Members of a team (Portus' Users entity plus the membership)."""
    ctx = make_ctx(login=True)
    rows = teams.members(ctx, team_id)
    spaces = teams.personal_namespaces(ctx, [m.user_id for m in rows])
    return jsonify([serializers.member_user(m, namespace_id=spaces.get(m.user_id))
                    for m in rows])


@bp.post("/<int:team_id>/members")
def add_member(team_id: int) -> tuple[Response, int]:
    """Add a member: ``{"role", "user"}`` (user is a username)."""
    ctx = make_ctx(login=True)
    data = request_data()
    member = teams.add_member(ctx, team_id, field(data, "user"), field(data, "role"))
    ctx.session.commit()
    ctx.session.refresh(member)
    return jsonify(serializers.member(member, current_user_id=ctx.user_id)), 201


@bp.put("/<int:team_id>/members/<int:member_id>")
def update_member(team_id: int, member_id: int) -> Response:
    """Change a member's role."""
    ctx = make_ctx(login=True)
    data = request_data()
    member = teams.update_member(ctx, team_id, member_id, field(data, "role"))
    ctx.session.commit()
    return jsonify(serializers.member(member, current_user_id=ctx.user_id))


@bp.delete("/<int:team_id>/members/<int:member_id>")
def remove_member(team_id: int, member_id: int) -> tuple[str, int]:
    """Remove a member (never the last owner)."""
    ctx = make_ctx(login=True)
    teams.remove_member(ctx, team_id, member_id)
    ctx.session.commit()
    return "", 204
