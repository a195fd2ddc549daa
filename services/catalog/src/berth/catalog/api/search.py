"""Extension: ``GET /api/v1/search?q=`` over repositories, namespaces, teams."""

from __future__ import annotations

from berth.catalog.api.helpers import ctx as make_ctx
from berth.catalog.api.namespaces import present_namespaces
from berth.catalog.api.repositories import present_repositories
from berth.catalog.api.teams import present as present_teams
from berth.catalog.services import search as svc
from berth.common.errors import Invalid
from berth.common.web import page_params
from flask import Blueprint, Response, jsonify, request

bp = Blueprint("search", __name__, url_prefix="/api/v1")
MAX_QUERY = 100


def _has_control(q: str) -> bool:
    # A NUL ends the LIKE pattern on SQLite (every name matches); no name
    # holds a control character, so such a query is refused everywhere.
    return any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in q)


@bp.get("/search")
def search() -> Response:
    """Substring matches the caller may see, each kind paged on its own."""
    ctx = make_ctx()
    q = (request.args.get("q") or "").strip()
    if not q or len(q) > MAX_QUERY:
        raise Invalid(f"q is required (1 to {MAX_QUERY} characters)",
                      detail={"field": "q"})
    if _has_control(q):
        raise Invalid("q must not contain control characters", detail={"field": "q"})
    page = page_params(("name",))
    repos, repos_total = svc.repositories(ctx, q, page)
    spaces, spaces_total = svc.namespaces(ctx, q, page)
    teams, teams_total = svc.teams_matching(ctx, q, page)
    return jsonify({
        "query": q, "page": page.page, "per_page": page.per_page,
        "repositories": present_repositories(ctx, repos),
        "namespaces": present_namespaces(ctx, spaces),
        "teams": present_teams(ctx, teams),
        "totals": {"repositories": repos_total, "namespaces": spaces_total,
                   "teams": teams_total}})
