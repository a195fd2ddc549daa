"""Teams: list, create, detail with members and roles, membership changes."""

from __future__ import annotations

from berth.webui.sessions import api, login_required
from berth.webui.views.forms import attempt, list_params
from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

bp = Blueprint("teams", __name__)

ROLES = ("viewer", "contributor", "owner")


@bp.get("/teams")
@login_required
def index() -> str:
    """Teams I may see, and a form to create one."""
    return render_template("teams.html", teams=api().teams(**list_params()))


@bp.post("/teams")
@login_required
def create() -> Response:
    """Create a team that I own."""
    name = (request.form.get("name") or "").strip()
    description = (request.form.get("description") or "").strip()
    created = attempt(lambda: api().create_team(name, description),
                      f"Team {name} created.")
    if created and created.get("id"):
        return redirect(url_for("teams.show", team_id=created["id"]))
    return redirect(url_for("teams.index"))


@bp.get("/teams/<int:team_id>")
@login_required
def show(team_id: int) -> str:
    """One team: members and roles, namespaces, management forms for owners."""
    client = api()
    team = client.team(team_id)
    members = client.team_members(team_id)
    namespaces = client.team_namespaces(team_id)
    return render_template("team.html", team=team, members=members,
                           namespaces=namespaces, roles=ROLES)


@bp.post("/teams/<int:team_id>/members")
@login_required
def add_member(team_id: int) -> Response:
    """Add a user with a role."""
    user = (request.form.get("user") or "").strip()
    role = request.form.get("role") or "viewer"
    attempt(lambda: api().add_member(team_id, user, role), f"{user} added as {role}.")
    return redirect(url_for("teams.show", team_id=team_id))


@bp.post("/teams/<int:team_id>/members/<int:member_id>")
@login_required
def change_member(team_id: int, member_id: int) -> Response:
    """Change a member's role."""
    role = request.form.get("role") or ""
    attempt(lambda: api().change_member(team_id, member_id, role), "Role changed.")
    return redirect(url_for("teams.show", team_id=team_id))


@bp.post("/teams/<int:team_id>/members/<int:member_id>/delete")
@login_required
def remove_member(team_id: int, member_id: int) -> Response:
    """Remove a member."""
    attempt(lambda: api().remove_member(team_id, member_id), "Member removed.")
    return redirect(url_for("teams.show", team_id=team_id))
