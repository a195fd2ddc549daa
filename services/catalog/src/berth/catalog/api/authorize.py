"""``GET /api/v1/authorize/explain``: why an action is allowed or refused."""

from __future__ import annotations

from berth.catalog import errors
from berth.catalog.api.helpers import ctx as make_ctx
from berth.catalog.models import User
from berth.catalog.policy import Subject
from berth.catalog.services import authorize as authz
from berth.catalog.services.namespaces import default_registry
from berth.catalog.services.registries import by_service
from berth.common.errors import Invalid
from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

bp = Blueprint("authorize", __name__, url_prefix="/api/v1/authorize")


@bp.get("/explain")
def explain() -> Response:
    """Per action: allowed, and the rule that decided (own access; admins any)."""
    ctx = make_ctx(login=True)
    texts = request.args.getlist("scope")
    if not texts:
        raise Invalid("scope is required, e.g. repository:team/app:pull,push",
                      detail={"field": "scope"})
    scopes = [authz.parse_scope_text(t) for t in texts]
    subject = ctx.subject
    username = request.args.get("user")
    if username and username != ctx.subject.username:
        if not ctx.subject.admin:
            raise errors.denied("explain_others_admins_only",
                                "only admins may explain another user's access")
        user = ctx.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise errors.not_found("user")
        subject = Subject(kind="bot" if user.bot else "user", user_id=user.id,
                          username=user.username, admin=user.admin,
                          enabled=user.enabled)
    service = request.args.get("service")
    registry = by_service(ctx.session, service) if service else default_registry(ctx)
    if registry is None:
        raise errors.not_found("registry")
    return jsonify({
        "user": subject.username, "admin": subject.admin, "enabled": subject.enabled,
        "scopes": [authz.explain(ctx.session, registry, subject, s, ctx.knobs)
                   for s in scopes]})
