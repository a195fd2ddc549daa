"""Tags (Portus lib/api/v1/tags.rb)."""

from __future__ import annotations

from berth.catalog.api.helpers import ctx as make_ctx
from berth.catalog.api.helpers import flag, listing, state
from berth.catalog.api.repositories import present_tags
from berth.catalog.services import repositories
from berth.common.errors import Denied
from berth.common.web import page_params
from flask import Blueprint, Response, jsonify

bp = Blueprint("tags", __name__, url_prefix="/api/v1/tags")


@bp.get("")
def index() -> Response:
    """Every tag (admins)."""
    ctx = make_ctx(login=True)
    if not ctx.subject.admin:
        raise Denied("admin rights required")
    page = page_params(repositories.TAG_SORT_KEYS, default_sort="id")
    rows, total = repositories.list_all_tags(ctx, page)
    return listing(present_tags(ctx, rows), page, total)


@bp.get("/<int:tag_id>")
def show(tag_id: int) -> Response:
    """One tag, with the tags that share its digest."""
    ctx = make_ctx()
    tag, _, _ = repositories.get_tag(ctx, tag_id)
    return jsonify(present_tags(ctx, [tag])[0])


@bp.delete("/<int:tag_id>")
def destroy(tag_id: int) -> Response | tuple[str, int]:
    """Delete the tag's manifest in the registry, and so every tag sharing it.

    ``?dry_run=true`` answers which tags would go, without deleting anything.
    """
    ctx = make_ctx(login=True)
    dry = flag("dry_run")
    doomed = repositories.delete_tag(ctx, state().registry_ops, tag_id, dry_run=dry)
    if dry:
        return jsonify({"dry_run": True, "digest": doomed[0].digest,
                        "tags": [t.name for t in doomed]})
    ctx.session.commit()
    return "", 204
