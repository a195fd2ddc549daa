"""Portus' ``/api/v1/users``: list, show, create (admin or sign-up), update,
delete, and ``/api/v1/users/bootstrap``."""

from __future__ import annotations

from typing import Any

from berth.common.db import get_session
from berth.common.errors import BadRequest, Denied, Invalid, NotFound, Unauthorized
from berth.common.web import (
    client_address,
    field,
    nested,
    page_params,
    pagination_headers,
    request_data,
)
from berth.token.api.support import (
    MethodNotAllowed,
    acting_admin,
    acting_user,
    is_anonymous,
    services,
    user_json,
)
from berth.token.errors import (
    ALREADY_BOOTSTRAPPED,
    BOOTSTRAP_DISABLED,
    PRIVILEGED_FIELD,
    SIGNUP_DISABLED,
)
from berth.token.models import User
from berth.token.services.users import Changes, actor_of
from flask import Blueprint, Response, jsonify

bp = Blueprint("users", __name__)
SORT_KEYS = ("id", "username", "email", "created_at", "updated_at", "admin",
             "enabled", "display_name")
PRIVILEGED = ("admin", "enabled", "bot")


def _user_body() -> dict[str, Any]:
    return nested(request_data(), "user")


def _target(ref: str, acting: User) -> User:
    """The user ``ref`` (id, or e-mail for admins) as ``acting`` may see it:
    others' records are admin-only, whether they exist or not."""
    if not acting.admin:
        if ref != str(acting.id):
            raise Denied("admin rights required")
        return acting
    return services().users.find(get_session(), ref)


@bp.get("/api/v1/users")
def list_users() -> tuple[Response, int, dict[str, str]]:
    """Every user (admin)."""
    acting_admin()
    page = page_params(SORT_KEYS, default_sort="id")
    users, total = services().users.page(
        get_session(), sort=page.sort_attr, descending=page.descending,
        offset=page.offset, limit=None if page.all else page.per_page)
    return jsonify([user_json(u) for u in users]), 200, pagination_headers(page, total)


@bp.post("/api/v1/users")
def create_user() -> tuple[Response, int]:
    """An admin creates a user or a bot; anyone signs up when sign-up is on."""
    config = services().config
    session = get_session()
    users = services().users
    if is_anonymous():
        body = _user_body()
        if not config.signup_enabled:
            raise Unauthorized("sign-up is disabled", code=SIGNUP_DISABLED)
        sent = [k for k in PRIVILEGED if k in body]
        if sent:
            raise Denied(f"only admins may set {', '.join(sent)}", code=PRIVILEGED_FIELD,
                         detail={"fields": sent})
        first_admin = config.first_user_admin and users.count(session) == 0 \
            and users.claim_first(session)
        user = users.create(
            session, username=field(body, "username"), email=field(body, "email"),
            password=field(body, "password", max_length=1024),
            display_name=field(body, "display_name", required=False),
            admin=first_admin, actor=None)
    else:
        acting = acting_admin()
        body = _user_body()
        bot = bool(field(body, "bot", required=False, kind=bool))
        user = users.create(
            session, username=field(body, "username"),
            email=field(body, "email", required=not bot),
            password=field(body, "password", required=not bot, max_length=1024),
            display_name=field(body, "display_name", required=False),
            admin=bool(field(body, "admin", required=False, kind=bool)), bot=bot,
            actor=actor_of(acting, client_address()))
    session.commit()
    return jsonify(user_json(user)), 201


@bp.get("/api/v1/users/<ref>")
def show_user(ref: str) -> Response:
    """One user by id or e-mail (admins; users may see themselves)."""
    acting = acting_user()
    return jsonify(user_json(_target(ref, acting)))


@bp.put("/api/v1/users/<ref>")
def update_user(ref: str) -> Response:
    """Change a user. Admins may set ``enabled`` and ``admin`` (not on
    themselves); users may change their own e-mail, display name and password."""
    acting = acting_user()
    if not ref.isdigit():
        raise NotFound("user not found")
    user = _target(ref, acting)
    body = _user_body()
    if not acting.admin:
        sent = [k for k in PRIVILEGED if k in body]
        if sent:
            raise Denied(f"only admins may set {', '.join(sent)}", code=PRIVILEGED_FIELD,
                         detail={"fields": sent})
    username = field(body, "username", required=False)
    if username is not None and username != user.username:
        raise Invalid("the username cannot be changed", detail={"field": "username"})
    password = field(body, "password", required=False, max_length=1024)
    if password is not None:
        _check_password_change(acting, user, body)
    changes = Changes(
        email=field(body, "email", required=False),
        display_name=body.get("display_name") if isinstance(
            body.get("display_name"), str) else None,
        password=password,
        admin=field(body, "admin", required=False, kind=bool),
        enabled=field(body, "enabled", required=False, kind=bool))
    session = get_session()
    services().users.update(session, user, changes, acting=acting,
                            actor=actor_of(acting, client_address()))
    if changes.enabled and acting.admin:
        # Sending enabled=true is also how an admin unlocks a locked account.
        services().credentials.throttle.clear(session, user.username)
        user.locked_until = None
        user.failed_attempts = 0
    session.commit()
    return jsonify(user_json(user))


def _check_password_change(acting: User, user: User, body: dict[str, Any]) -> None:
    if user.password_hash is None:
        raise Invalid("this account has no local password", detail={"field": "password"})
    if acting.id != user.id:
        return  # an admin resetting someone else's password
    current = body.get("current_password")
    if not isinstance(current, str) or not services().credentials.passwords.verify(
            user.password_hash, current):
        raise Invalid("current_password is wrong", detail={"field": "current_password"})


@bp.delete("/api/v1/users/<ref>")
def delete_user(ref: str) -> tuple[str, int]:
    """Delete a user (admin; not yourself, never the last admin)."""
    acting = acting_admin()
    if not ref.isdigit():
        raise NotFound("user not found")
    session = get_session()
    user = services().users.get(session, int(ref))
    services().users.delete(session, user, acting=acting,
                            actor=actor_of(acting, client_address()))
    session.commit()
    return "", 204


@bp.post("/api/v1/users/bootstrap")
def bootstrap() -> tuple[Response, int]:
    """Create the first admin and return an application token for it."""
    svc = services()
    if not svc.config.bootstrap_enabled:
        raise MethodNotAllowed("this instance has disabled this endpoint",
                               code=BOOTSTRAP_DISABLED)
    session = get_session()
    if svc.users.count(session) > 0:
        raise BadRequest("you can only use this when there are no users on the system",
                         code=ALREADY_BOOTSTRAPPED)
    body = _user_body()
    user = svc.users.create(
        session, username=field(body, "username"), email=field(body, "email"),
        password=field(body, "password", max_length=1024),
        display_name=field(body, "display_name", required=False), admin=True)
    if not svc.users.claim_first(session):
        raise BadRequest("you can only use this when there are no users on the system",
                         code=ALREADY_BOOTSTRAPPED)
    token, plain = svc.tokens.create(session, user, "bootstrap",
                                     actor=actor_of(user, client_address()))
    session.commit()
    return jsonify({"id": token.id, "application": token.application,
                    "plain_token": plain}), 201
