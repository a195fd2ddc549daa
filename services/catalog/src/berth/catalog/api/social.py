"""Extensions: stars and comments on repositories."""

from __future__ import annotations

from berth.catalog import policy
from berth.catalog.api import serializers
from berth.catalog.api.helpers import ctx as make_ctx
from berth.catalog.api.helpers import listing
from berth.catalog.api.repositories import present_repositories
from berth.catalog.services import social
from berth.common.web import field, nested, page_params, request_data
from flask import Blueprint, Response, jsonify

bp = Blueprint("social", __name__, url_prefix="/api/v1")


@bp.get("/stars")
def my_stars() -> Response:
    """The caller's starred repositories."""
    ctx = make_ctx(login=True)
    page = page_params(("id",))
    rows, total = social.starred(ctx, page)
    return listing(present_repositories(ctx, rows), page, total)


@bp.post("/repositories/<int:repository_id>/stars")
def star(repository_id: int) -> tuple[Response, int]:
    """Star a repository (idempotent: 201 when new, 200 when already starred)."""
    ctx = make_ctx(login=True)
    repo, created = social.star(ctx, repository_id)
    ctx.session.commit()
    return jsonify(present_repositories(ctx, [repo])[0]), 201 if created else 200


@bp.delete("/repositories/<int:repository_id>/stars")
def unstar(repository_id: int) -> tuple[str, int]:
    """Remove the caller's star."""
    ctx = make_ctx(login=True)
    social.unstar(ctx, repository_id)
    ctx.session.commit()
    return "", 204


@bp.post("/repositories/<int:repository_id>/toggle_star")
def toggle_star(repository_id: int) -> Response:
    """Portus' toggle: star if not starred, unstar otherwise."""
    ctx = make_ctx(login=True)
    repo, created = social.star(ctx, repository_id)
    if not created:
        social.unstar(ctx, repository_id)
    ctx.session.commit()
    return jsonify(present_repositories(ctx, [repo])[0])


@bp.get("/repositories/<int:repository_id>/comments")
def comments(repository_id: int) -> Response:
    """Comments of a repository."""
    ctx = make_ctx()
    rows = social.comments(ctx, repository_id)
    return jsonify([serializers.comment(
        c, destroyable=policy.can_delete_comment(ctx.subject, c.author_id).allowed)
        for c in rows])


@bp.post("/repositories/<int:repository_id>/comments")
def add_comment(repository_id: int) -> tuple[Response, int]:
    """``{"comment": {"body"}}`` (Markdown, rendered sanitised in ``body_md``)."""
    ctx = make_ctx(login=True)
    data = nested(request_data(), "comment")
    comment = social.add_comment(ctx, repository_id,
                                 field(data, "body", max_length=social.MAX_COMMENT))
    ctx.session.commit()
    return jsonify(serializers.comment(comment, destroyable=True)), 201


@bp.delete("/repositories/<int:repository_id>/comments/<int:comment_id>")
def delete_comment(repository_id: int, comment_id: int) -> tuple[str, int]:
    """Delete a comment (author or admin)."""
    ctx = make_ctx(login=True)
    social.delete_comment(ctx, repository_id, comment_id)
    ctx.session.commit()
    return "", 204


