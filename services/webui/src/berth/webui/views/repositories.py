"""The repository page: tags, pull command, stars, comments, description,
deletion with a confirmation naming every tag that goes with a digest; and
the "why can't I push?" explanation."""

from __future__ import annotations

from typing import Any

from berth.webui.api_client import ApiError, ServiceDown
from berth.webui.sessions import api, current_user, login_required
from berth.webui.views.forms import attempt
from berth.webui.views.scanning import scan_summaries
from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

bp = Blueprint("repositories", __name__)

Json = dict[str, Any]


def _by_digest(tags: list[Json]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for tag in tags:
        groups.setdefault(str(tag.get("digest") or ""), []).append(str(tag.get("name")))
    return groups


def _comments(repo_id: int) -> list[Json] | None:
    try:
        return api().comments(repo_id)
    except ServiceDown:
        raise
    except ApiError as exc:
        if exc.status == 401:
            raise
        return None


@bp.get("/repositories/<int:repo_id>")
def show(repo_id: int) -> str:
    """One repository (anonymous visitors see public ones)."""
    client = api()
    repository = client.repository(repo_id)
    tags = client.tags(repo_id)
    return render_template("repository.html", repository=repository, tags=tags,
                           shared=_by_digest(tags), comments=_comments(repo_id),
                           scans=scan_summaries(tags))


@bp.post("/repositories/<int:repo_id>/star")
@login_required
def star(repo_id: int) -> Response:
    """Star or unstar (``action`` = star | unstar)."""
    if request.form.get("action") == "unstar":
        attempt(lambda: api().unstar(repo_id))
    else:
        attempt(lambda: api().star(repo_id))
    return redirect(url_for("repositories.show", repo_id=repo_id))


@bp.post("/repositories/<int:repo_id>/comments")
@login_required
def comment(repo_id: int) -> Response:
    """Add a comment (Markdown, rendered and sanitised by the catalog)."""
    body = (request.form.get("body") or "").strip()
    if not body:
        flash("A comment cannot be empty.", "error")
    else:
        attempt(lambda: api().add_comment(repo_id, body), "Comment added.")
    return redirect(url_for("repositories.show", repo_id=repo_id) + "#comments")


@bp.post("/repositories/<int:repo_id>/comments/<int:comment_id>/delete")
@login_required
def delete_comment(repo_id: int, comment_id: int) -> Response:
    """Delete a comment (its author or an admin)."""
    attempt(lambda: api().delete_comment(repo_id, comment_id), "Comment deleted.")
    return redirect(url_for("repositories.show", repo_id=repo_id) + "#comments")


@bp.post("/repositories/<int:repo_id>/description")
@login_required
def describe(repo_id: int) -> Response:
    """Change the description."""
    description = (request.form.get("description") or "").strip()
    attempt(lambda: api().update_repository(repo_id, {"description": description}),
            "Description saved.")
    return redirect(url_for("repositories.show", repo_id=repo_id))


@bp.route("/repositories/<int:repo_id>/delete", methods=["GET", "POST"])
@login_required
def delete(repo_id: int) -> Response | str:
    """Confirm, then delete the whole repository."""
    client = api()
    repository = client.repository(repo_id)
    if request.method == "POST":
        def delete_it() -> bool:
            client.delete_repository(repo_id)
            return True

        done = attempt(delete_it,
                       f"Repository {repository.get('full_name')} is being deleted.")
        if done:
            ns = repository.get("namespace") or {}
            if ns.get("id"):
                return redirect(url_for("namespaces.show", ns_id=ns["id"]))
            return redirect(url_for("home.dashboard"))
        return redirect(url_for("repositories.show", repo_id=repo_id))
    tags = client.tags(repo_id)
    return render_template("confirm_delete.html", repository=repository, tag=None,
                           doomed=[str(t.get("name")) for t in tags])


@bp.route("/repositories/<int:repo_id>/tags/<int:tag_id>/delete",
          methods=["GET", "POST"])
@login_required
def delete_tag(repo_id: int, tag_id: int) -> Response | str:
    """Confirm (naming every tag that shares the digest), then delete."""
    client = api()
    repository = client.repository(repo_id)
    tags = client.tags(repo_id)
    tag = next((t for t in tags if t.get("id") == tag_id), None)
    if tag is None:
        raise ApiError(404, "tag not found")
    if request.method == "POST":
        attempt(lambda: client.delete_tag(tag_id),
                f"Tag {tag.get('name')} is being deleted.")
        return redirect(url_for("repositories.show", repo_id=repo_id))
    if isinstance(tag.get("digest_shared_with"), list):  # the catalog says it itself
        doomed = [str(tag.get("name")), *map(str, tag["digest_shared_with"])]
    else:
        doomed = _by_digest(tags).get(str(tag.get("digest") or ""), [str(tag.get("name"))])
    return render_template("confirm_delete.html", repository=repository, tag=tag,
                           doomed=doomed)


@bp.get("/explain")
@login_required
def explain() -> str:
    """Why may I (not) pull, push or delete in a repository or namespace?"""
    name = (request.args.get("repository") or "").strip()[:255]
    explanation = None
    if name:
        explanation = api().explain(f"repository:{name}:pull,push,delete")
    return render_template("explain.html", name=name, explanation=explanation,
                           me=current_user())
