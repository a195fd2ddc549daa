"""Who is signed in: the session holds the user's API JWT and refresh token,
and the API client used by views acts with that JWT, renewing it with the
refresh grant shortly before it expires."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

import jwt
import structlog
from berth.common.web import client_address
from berth.webui.api_client import ApiClient, ApiError, ServiceDown, TokenPair
from berth.webui.security import rotate_csrf
from flask import current_app, g, session

log = structlog.get_logger(__name__)

RENEW_MARGIN = 30  # seconds before expiry at which the JWT is renewed
F = TypeVar("F", bound=Callable[..., Any])


class LoginRequired(Exception):
    """The page needs a signed-in user (or the session ended)."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class AdminRequired(Exception):
    """The page is for administrators."""


def _client() -> ApiClient:
    client: ApiClient = current_app.extensions["berth.webui.api"]
    return client


def sign_in(pair: TokenPair) -> dict[str, Any]:
    """Start a session for the owner of ``pair``; return the user shown in pages."""
    # The UI only displays these claims; every service verifies the JWT itself.
    claims = jwt.decode(pair.token, options={"verify_signature": False})
    user = {"id": claims.get("uid"), "username": str(claims.get("sub", "")),
            "admin": bool(claims.get("adm")), "bot": bool(claims.get("bot"))}
    session.clear()
    session.permanent = True
    session["user"] = user
    _store(pair)
    rotate_csrf()
    return user


def _store(pair: TokenPair) -> None:
    session["api_token"] = pair.token
    session["refresh_token"] = pair.refresh_token
    session["expires_at"] = int(time.time()) + max(pair.expires_in, 1)


def sign_out() -> None:
    """Forget everything about the session."""
    session.clear()
    rotate_csrf()


def current_user() -> dict[str, Any] | None:
    """The signed-in user (id, username, admin, bot), or None."""
    user = session.get("user")
    return cast(dict[str, Any], user) if isinstance(user, dict) else None


def _fresh_token() -> str | None:
    token = session.get("api_token")
    if not token:
        return None
    if time.time() < float(session.get("expires_at", 0)) - RENEW_MARGIN:
        return str(token)
    refresh = session.get("refresh_token")
    if not refresh:
        sign_out()
        raise LoginRequired("Your session has expired. Please sign in again.")
    try:
        pair = _client().refresh(str(refresh))
    except ServiceDown:
        raise
    except ApiError as exc:
        log.info("session_refresh_refused", status=exc.status)
        sign_out()
        raise LoginRequired("Your session has expired. Please sign in again.") from exc
    _store(pair)
    return pair.token


def api() -> ApiClient:
    """The API client acting as the signed-in user (or anonymously)."""
    if "webui_api" not in g:
        g.webui_api = _client().with_token(_fresh_token(), client_address())
    client: ApiClient = g.webui_api
    return client


def login_required(view: F) -> F:
    """The view needs a signed-in user; otherwise go to the sign-in page."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            raise LoginRequired()
        return view(*args, **kwargs)

    return cast(F, wrapped)


def admin_required(view: F) -> F:
    """The view is for administrators only (403 page for others)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None:
            raise LoginRequired()
        if not user.get("admin"):
            raise AdminRequired()
        return view(*args, **kwargs)

    return cast(F, wrapped)
