"""What the views share: the services, logins in their own transaction, the
acting user, and the JSON forms of users."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any, cast

from berth.common.auth import Principal, current_principal, require_user
from berth.common.db import get_session, read_mostly
from berth.common.errors import (
    AppError,
    Denied,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from berth.common.web import client_address
from berth.token.app import TokenServices
from berth.token.errors import (
    DIRECTORY_UNAVAILABLE,
    LOGIN_REFUSED,
    AuthFailed,
    DirectoryUnavailable,
    Throttled,
)
from berth.token.models import User, utcnow
from berth.token.services.credentials import Account, Login
from flask import current_app, request


class MethodNotAllowed(AppError):
    """The endpoint is switched off by configuration (405, as Portus)."""

    status = 405
    code = "METHOD_NOT_ALLOWED"


def services() -> TokenServices:
    """The collaborators of the current app."""
    return cast(TokenServices, current_app.extensions["berth.token"])


def refused() -> Unauthorized:
    """The one answer to every refused login."""
    return Unauthorized(LOGIN_REFUSED)


def login(username: str, secret: str, *, client: str, address: str | None = None) -> Login:
    """Authenticate in a transaction of its own, so failures are recorded
    (throttling, events) even though the request then fails.

    The steady state (an application token used within the last minute, a
    cached password) is one read on a plain connection, without SQLite's write
    lock or an ORM session: on the embedded database, concurrent ``/v2/token``
    requests do not queue behind each other. Anything else runs in a session;
    a login that does write is run again as a writer if another process wrote
    first."""
    svc = services()
    addr = client_address() if address is None else address
    known = _recognise(username, secret, addr)
    if known is not None:
        return known
    with svc.cache.exclusive(username, secret) as waited:
        # Who waited may find the first one's login done (a cached password,
        # a fresh touch): one read again instead of a verification.
        known = _recognise(username, secret, addr) if waited else None
        return known or _authenticate(username, secret, client, addr)


def _recognise(username: str, secret: str, address: str) -> Login | None:
    svc = services()
    return svc.credentials.recognise(svc.runtime.engine, username, secret,
                                     address=address)


def _authenticate(username: str, secret: str, client: str, addr: str) -> Login:
    svc = services()
    with svc.runtime.sessions() as session:

        def attempt() -> Login | AppError:
            try:
                result = svc.credentials.authenticate(session, username, secret,
                                                      address=addr, client=client)
            except AuthFailed:
                session.commit()
                return refused()
            except Throttled as exc:
                session.commit()
                return RateLimited("too many failed attempts; try again later",
                                   retry_after=exc.retry_after)
            except DirectoryUnavailable:
                session.rollback()
                return Unavailable("directory unavailable", code=DIRECTORY_UNAVAILABLE)
            session.commit()
            return result

        outcome = read_mostly(session, attempt)
    if isinstance(outcome, AppError):
        raise outcome
    return outcome


def principal_of(user: Account, via: str) -> Principal:
    """The principal of ``user``."""
    return Principal(id=user.id, username=user.username, admin=user.admin,
                     kind="bot" if user.bot else "user", via=via)


def resolve_credentials(username: str, secret: str, address: str) -> Principal | None:
    """The credential resolver of this service's own Authenticator."""
    try:
        result = login(username, secret, client="api", address=address)
    except Unauthorized:
        return None
    return principal_of(result.user, result.method)


def basic_credentials() -> tuple[str, str] | None:
    """(username, secret) from ``Authorization: Basic``; None when absent."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if not header:
        return None
    if scheme.lower() != "basic" or not value:
        raise Unauthorized("Basic credentials required",
                           headers={"WWW-Authenticate": 'Basic realm="berth"'})
    try:
        username, sep, secret = base64.b64decode(value.strip(), validate=True) \
            .decode().partition(":")
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unauthorized("malformed Basic credentials") from exc
    if not sep:
        raise Unauthorized("malformed Basic credentials")
    return username, secret


def acting_user() -> User:
    """The logged-in user, read from the database (a disabled user's JWT stops
    working at once here, whatever its expiry)."""
    principal = require_user()
    if principal.kind == "service" or principal.id is None:
        raise Denied("a user is required")
    user = get_session().get(User, principal.id)
    if user is None or not user.enabled:
        raise refused()
    return user


def acting_admin() -> User:
    """The logged-in user, who must be an admin."""
    user = acting_user()
    if not user.admin:
        raise Denied("admin rights required")
    return user


def is_anonymous() -> bool:
    """True when the request carries no credentials."""
    return current_principal().anonymous


def iso(value: datetime | None) -> str | None:
    """Portus' time format (UTC)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z") if value else None


def user_json(user: User) -> dict[str, Any]:
    """Portus' ``API::Entities::Users``."""
    locked = user.locked_until if user.locked_until and user.locked_until > utcnow() \
        else None
    return {"id": user.id, "username": user.username, "email": user.email,
            "current_sign_in_at": iso(user.last_sign_in_at),
            "last_sign_in_at": iso(user.last_sign_in_at),
            "created_at": iso(user.created_at), "updated_at": iso(user.updated_at),
            "admin": user.admin, "enabled": user.enabled, "locked_at": iso(locked),
            "namespace_id": None, "display_name": user.display_name, "bot": user.bot}


def internal_user_json(user: User) -> dict[str, Any]:
    """The user as docs/internal-api.md describes it."""
    return {"id": user.id, "username": user.username, "email": user.email,
            "display_name": user.display_name, "admin": user.admin,
            "enabled": user.enabled, "bot": user.bot}
