"""Endpoints for Berth's own services (docs/internal-api.md)."""

from __future__ import annotations

from berth.common.auth import require_internal
from berth.common.db import get_session
from berth.common.errors import Invalid, NotFound
from berth.common.web import field, request_data
from berth.token.api.support import internal_user_json, login, principal_of
from berth.token.models import User
from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

bp = Blueprint("internal", __name__)


@bp.post("/internal/v1/principal")
def principal() -> Response:
    """``user:secret`` (password or application token) -> principal."""
    require_internal()
    data = request_data()
    username = field(data, "username")
    secret = field(data, "secret", max_length=1024)
    address = field(data, "address", required=False) or ""
    result = login(username, secret, client="api", address=address)
    return jsonify({"principal": principal_of(result.user, result.method).to_dict()})


@bp.get("/internal/v1/users/<int:user_id>")
def user_by_id(user_id: int) -> Response:
    """One user."""
    require_internal()
    user = get_session().get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    return jsonify(internal_user_json(user))


@bp.get("/internal/v1/users")
def user_by_name() -> Response:
    """One user by ``?username=``."""
    require_internal()
    username = request.args.get("username")
    if not username:
        raise Invalid("username is required", detail={"field": "username"})
    user = get_session().scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("user not found")
    return jsonify(internal_user_json(user))
