"""Namespaces: list, create, detail with repositories, visibility, team, description."""

from __future__ import annotations

from berth.webui.sessions import api, login_required
from berth.webui.views.forms import attempt, list_params
from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

bp = Blueprint("namespaces", __name__)

VISIBILITIES = ("private", "protected", "public")


@bp.get("/namespaces")
@login_required
def index() -> str:
    """Namespaces I may see, and a form to create one."""
    client = api()
    namespaces = client.namespaces(**list_params())
    teams = client.teams(all="true")
    return render_template("namespaces.html", namespaces=namespaces, teams=teams)


@bp.post("/namespaces")
@login_required
def create() -> Response:
    """Create a namespace owned by one of my teams."""
    name = (request.form.get("name") or "").strip()
    team = (request.form.get("team") or "").strip()
    description = (request.form.get("description") or "").strip()
    created = attempt(lambda: api().create_namespace(name, team, description),
                      f"Namespace {name} created.")
    if created and created.get("id"):
        return redirect(url_for("namespaces.show", ns_id=created["id"]))
    return redirect(url_for("namespaces.index"))


@bp.get("/namespaces/<int:ns_id>")
@login_required
def show(ns_id: int) -> str:
    """One namespace with its repositories and, for its managers, its settings."""
    client = api()
    namespace = client.namespace(ns_id)
    repositories = client.namespace_repositories(ns_id, **list_params())
    teams = client.teams(all="true") if namespace.get("updatable") else None
    return render_template("namespace.html", namespace=namespace,
                           repositories=repositories, teams=teams,
                           visibilities=VISIBILITIES)


@bp.post("/namespaces/<int:ns_id>")
@login_required
def update(ns_id: int) -> Response:
    """Change one setting: visibility, description or owning team."""
    fields = {key: request.form[key].strip() for key in ("visibility", "description",
                                                         "team")
              if key in request.form}
    if fields:
        attempt(lambda: api().update_namespace(ns_id, fields), "Namespace updated.")
    return redirect(url_for("namespaces.show", ns_id=ns_id))
