"""Namespaces (Portus lib/api/v1/namespaces.rb)."""

from __future__ import annotations

from typing import Any

from berth.catalog import policy
from berth.catalog.api import serializers
from berth.catalog.api.helpers import ctx as make_ctx
from berth.catalog.api.helpers import listing, state
from berth.catalog.api.repositories import present_repositories
from berth.catalog.models import Namespace
from berth.catalog.services import access, namespaces, repositories
from berth.catalog.services.context import Ctx
from berth.common.errors import Invalid
from berth.common.web import field, nested, page_params, request_data
from flask import Blueprint, Response, jsonify, request

bp = Blueprint("namespaces", __name__, url_prefix="/api/v1/namespaces")


def decisions(ctx: Ctx, facts: policy.NamespaceFacts) -> dict[str, policy.Decision]:
    """What the caller may do with a namespace (shown as ``permissions``)."""
    k, s = ctx.knobs, ctx.subject
    return {
        "pull": policy.can_pull(s, facts, k), "push": policy.can_push(s, facts, k),
        "delete": policy.can_delete(s, facts, k),
        "manage": policy.can_manage_namespace(s, facts, k),
        "visibility": policy.can_change_visibility(s, facts, "public", k),
        "webhooks": policy.can_manage_webhooks(s, facts, k, create=False)}


def present_namespaces(ctx: Ctx, rows: list[Namespace]) -> list[dict[str, Any]]:
    """Namespaces with permissions and counts (a constant number of queries)."""
    roles = access.roles_of(ctx.session, ctx.user_id, [n.team_id for n in rows])
    counts = namespaces.repository_counts(ctx, [n.id for n in rows])
    out = []
    for ns in rows:
        facts = access.facts(ns, roles.get(ns.team_id))
        out.append(serializers.namespace(ns, facts=facts,
                                         decisions=decisions(ctx, facts),
                                         repositories_count=counts.get(ns.id, 0)))
    return out


@bp.get("")
def index() -> Response:
    """Namespaces the caller may see."""
    ctx = make_ctx()
    page = page_params(namespaces.SORT_KEYS)
    rows, total = namespaces.list_visible(ctx, page)
    return listing(present_namespaces(ctx, rows), page, total)


@bp.get("/validate")
def validate() -> Response:
    """Whether ``name`` is a valid, unused namespace name (Status entity)."""
    ctx = make_ctx(login=True)
    name = request.args.get("name")
    if name is None:
        raise Invalid("name is required", detail={"field": "name"})
    messages = namespaces.validate_name(ctx, name)
    return jsonify({"messages": messages, "valid": not messages})


@bp.post("")
def create() -> tuple[Response, int]:
    """Create a namespace: ``{"name", "team", "description"}``."""
    ctx = make_ctx(login=True)
    data = nested(request_data(), "namespace")
    ns = namespaces.create(ctx, field(data, "name"), field(data, "team"),
                           field(data, "description", required=False,
                                 max_length=65535),
                           field(data, "visibility", required=False))
    ctx.session.commit()
    return jsonify(present_namespaces(ctx, [ns])[0]), 201


@bp.get("/<int:namespace_id>")
def show(namespace_id: int) -> Response:
    """One namespace."""
    ctx = make_ctx()
    ns, _ = namespaces.get_visible(ctx, namespace_id)
    return jsonify(present_namespaces(ctx, [ns])[0])


@bp.put("/<int:namespace_id>")
def update(namespace_id: int) -> Response:
    """``{"namespace": {"visibility", "description", "team", "name"}}``."""
    ctx = make_ctx(login=True)
    data = nested(request_data(), "namespace")
    ns = namespaces.update(
        ctx, namespace_id, visibility=field(data, "visibility", required=False),
        description=field(data, "description", required=False, max_length=65535),
        team_name=field(data, "team", required=False),
        name=field(data, "name", required=False))
    ctx.session.commit()
    return jsonify(present_namespaces(ctx, [ns])[0])


@bp.delete("/<int:namespace_id>")
def destroy(namespace_id: int) -> tuple[str, int]:
    """Delete a team namespace and, through the registry, its images."""
    ctx = make_ctx(login=True)
    namespaces.delete(ctx, state().registry_ops, namespace_id)
    ctx.session.commit()
    return "", 204


@bp.get("/<int:namespace_id>/repositories")
def namespace_repositories(namespace_id: int) -> Response:
    """Repositories of a namespace the caller may see."""
    ctx = make_ctx()
    ns, _ = namespaces.get_visible(ctx, namespace_id)
    page = page_params(repositories.SORT_KEYS)
    rows, total = repositories.list_visible(ctx, page, namespace_id=ns.id)
    return listing(present_repositories(ctx, rows), page, total)


