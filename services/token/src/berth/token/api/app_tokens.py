"""Portus' application token endpoints. Users manage their own tokens; admins
anyone's (Portus let any user manage anyone's: a deliberate departure)."""

from __future__ import annotations

from typing import Any

from berth.common.db import get_session
from berth.common.errors import Denied, NotFound
from berth.common.web import client_address, request_data
from berth.token.api.support import acting_user, iso, services
from berth.token.models import ApplicationToken, User
from berth.token.services.users import actor_of
from flask import Blueprint, Response, jsonify

bp = Blueprint("application_tokens", __name__)


def _owner(user_id: int, acting: User) -> User:
    if acting.admin:
        return services().users.get(get_session(), user_id)
    if user_id != acting.id:
        raise Denied("you can only manage your own application tokens")
    return acting


def token_json(token: ApplicationToken) -> dict[str, Any]:
    """Portus' ``API::Entities::ApplicationTokens`` (+ times)."""
    return {"id": token.id, "application": token.application,
            "created_at": iso(token.created_at), "last_used_at": iso(token.last_used_at)}


@bp.get("/api/v1/users/<int:user_id>/application_tokens")
def list_tokens(user_id: int) -> Response:
    """The tokens of a user."""
    owner = _owner(user_id, acting_user())
    return jsonify([token_json(t) for t in services().tokens.of_user(get_session(),
                                                                   owner.id)])


@bp.post("/api/v1/users/<int:user_id>/application_tokens")
def create_token(user_id: int) -> tuple[Response, int]:
    """A new token; its plain value is in this answer only."""
    acting = acting_user()
    owner = _owner(user_id, acting)
    data = request_data()
    inner = data.get("application_token")
    application = (inner if isinstance(inner, dict) else data).get("application")
    session = get_session()
    token, plain = services().tokens.create(
        session, owner, application if isinstance(application, str) else "",
        actor=actor_of(acting, client_address()))
    session.commit()
    return jsonify({"id": token.id, "application": token.application,
                    "plain_token": plain}), 201


@bp.delete("/api/v1/users/application_tokens/<int:token_id>")
def delete_token(token_id: int) -> tuple[str, int]:
    """Revoke a token (someone else's looks exactly like a missing one)."""
    acting = acting_user()
    session = get_session()
    token = services().tokens.get(session, token_id)
    if not acting.admin and token.user_id != acting.id:
        raise NotFound("application token not found")
    services().tokens.destroy(session, token, actor=actor_of(acting, client_address()))
    session.commit()
    return "", 204
