"""Repositories (Portus lib/api/v1/repositories.rb) and their tags."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from berth.catalog import errors
from berth.catalog.api import serializers
from berth.catalog.api.helpers import ctx as make_ctx
from berth.catalog.api.helpers import flag, listing, state
from berth.catalog.models import Repository, Tag
from berth.catalog.services import access, repositories
from berth.catalog.services.context import Ctx
from berth.catalog.services.paging import total_of
from berth.common.web import field, nested, page_params, request_data
from flask import Blueprint, Response, jsonify

bp = Blueprint("repositories", __name__, url_prefix="/api/v1/repositories")


def present_repositories(ctx: Ctx, rows: list[Repository],
                         destroyable: bool = False) -> list[dict[str, Any]]:
    """Repositories with stars and tag counts (a constant number of queries)."""
    stats = repositories.stats(ctx, [r.id for r in rows])
    roles = (access.roles_of(ctx.session, ctx.user_id,
                             [r.namespace.team_id for r in rows])
             if destroyable else {})
    out = []
    for r in rows:
        can = None
        if destroyable:
            facts = access.facts(r.namespace, roles.get(r.namespace.team_id))
            can = repositories.can_destroy(ctx, facts)
        out.append(serializers.repository(
            r, stars=stats.stars.get(r.id, 0), tags_count=stats.tags.get(r.id, 0),
            starred=r.id in stats.starred, destroyable=can))
    return out


def present_tags(ctx: Ctx, rows: list[Tag]) -> list[dict[str, Any]]:
    """Tags with the other tags sharing their digest (one extra query)."""
    shared = repositories.siblings(ctx, rows)
    return [serializers.tag(t, shared_with=shared.get(t.id)) for t in rows]


@bp.get("")
def index() -> Response:
    """Repositories in namespaces the caller may see (the same rule as show)."""
    ctx = make_ctx()
    page = page_params(repositories.SORT_KEYS)
    rows, total = repositories.list_visible(ctx, page)
    return listing(present_repositories(ctx, rows), page, total)


@bp.get("/<int:repository_id>")
def show(repository_id: int) -> Response:
    """One repository (with ``destroyable``)."""
    ctx = make_ctx()
    repo, _ = repositories.get_visible(ctx, repository_id)
    return jsonify(present_repositories(ctx, [repo], destroyable=True)[0])


@bp.put("/<int:repository_id>")
def update(repository_id: int) -> Response:
    """``{"repository": {"description"}}`` (those who may push)."""
    ctx = make_ctx(login=True)
    data = nested(request_data(), "repository")
    repo = repositories.update(ctx, repository_id,
                               field(data, "description", required=False,
                                     max_length=65535))
    ctx.session.commit()
    return jsonify(present_repositories(ctx, [repo], destroyable=True)[0])


@bp.delete("/<int:repository_id>")
def destroy(repository_id: int) -> Response | tuple[str, int]:
    """Delete every manifest, then the repository; ``?dry_run=true`` previews."""
    ctx = make_ctx(login=True)
    dry = flag("dry_run")
    tags = repositories.delete_repository(ctx, state().registry_ops, repository_id,
                                          dry_run=dry)
    if dry:
        return jsonify({"dry_run": True, "tags": [t.name for t in tags],
                        "digests": sorted({t.digest for t in tags})})
    ctx.session.commit()
    return "", 204


@bp.get("/<int:repository_id>/tags")
def tags(repository_id: int) -> Response:
    """Tags of a repository."""
    ctx = make_ctx()
    repo, _ = repositories.get_visible(ctx, repository_id)
    page = page_params(repositories.TAG_SORT_KEYS, default_sort="name")
    rows = repositories.tags_of(ctx, repo, page)
    total = total_of(page, len(rows), lambda: repositories.count_tags(ctx, repo))
    return listing(present_tags(ctx, rows), page, total)


@bp.get("/<int:repository_id>/tags/grouped")
def grouped(repository_id: int) -> Response:
    """Tags grouped by digest, newest push first (Portus' grouped tags)."""
    ctx = make_ctx()
    repo, _ = repositories.get_visible(ctx, repository_id)
    rows = repositories.tags_of(ctx, repo)
    groups: dict[str, list[Tag]] = defaultdict(list)
    for t in rows:
        groups[t.digest].append(t)
    shared = repositories.siblings(ctx, rows)
    return jsonify([[serializers.tag(t, shared_with=shared.get(t.id)) for t in group]
                    for group in groups.values()])


@bp.get("/<int:repository_id>/tags/<int:tag_id>")
def tag(repository_id: int, tag_id: int) -> Response:
    """One tag of a repository (Portus' sub-resource form of GET /tags/:id)."""
    ctx = make_ctx()
    found, _, _ = repositories.get_tag(ctx, tag_id)
    if found.repository_id != repository_id:
        raise errors.not_found("tag")
    return jsonify(present_tags(ctx, [found])[0])
