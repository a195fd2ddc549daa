"""Registries (Portus lib/api/v1/registries.rb), admins only."""

from __future__ import annotations

from berth.catalog.api import serializers
from berth.catalog.api.helpers import ctx as make_ctx
from berth.catalog.services import registries
from berth.catalog.services.context import Ctx
from berth.common.errors import Denied
from berth.common.web import field, nested, request_data
from flask import Blueprint, Response, jsonify, request

bp = Blueprint("registries", __name__, url_prefix="/api/v1/registries")
FIELDS = ("name", "hostname", "service", "url", "external_hostname",
          "notification_secret")


def _admin() -> Ctx:
    ctx = make_ctx(login=True)
    if not ctx.subject.admin:
        raise Denied("admin rights required")
    return ctx


def _body() -> dict[str, object]:
    data = nested(request_data(), "registry")
    out: dict[str, object] = {k: field(data, k, required=False) for k in FIELDS}
    out["use_ssl"] = field(data, "use_ssl", required=False, kind=bool)
    return {k: v for k, v in out.items() if v is not None}


@bp.get("")
def index() -> Response:
    """Every registry."""
    ctx = _admin()
    return jsonify([serializers.registry(r, admin=True)
                    for r in registries.list_registries(ctx.session)])


@bp.post("")
def create() -> tuple[Response, int]:
    """``{"registry": {"name", "hostname", "use_ssl", "external_hostname"...}}``."""
    ctx = _admin()
    registry = registries.create(ctx, _body())
    ctx.session.commit()
    return jsonify(serializers.registry(registry, admin=True)), 201


@bp.put("/<int:registry_id>")
def update(registry_id: int) -> Response:
    """Change a registry."""
    ctx = _admin()
    registry = registries.get(ctx.session, registry_id)
    registry = registries.update(ctx, registry, _body())
    ctx.session.commit()
    return jsonify(serializers.registry(registry, admin=True))


@bp.get("/validate")
def validate() -> Response:
    """Field checks of a would-be registry (Status entity). Reachability is the
    syncer's business: it alone talks to registries."""
    ctx = _admin()
    data = {k: request.args.get(k) for k in ("name", "hostname", "external_hostname")
            if request.args.get(k) is not None}
    only = request.args.getlist("only[]") or request.args.getlist("only")
    messages = registries.validate(ctx.session, data)
    if only:
        messages = {k: v for k, v in messages.items() if k in only}
    return jsonify({"messages": messages, "valid": not messages})
