"""Browser-facing protections: CSRF tokens on every state-changing request,
security headers (a strict CSP: no inline script or style anywhere), and
``next=`` redirects that can only stay on this site."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from berth.webui.metrics import CSRF_REJECTED
from flask import Flask, Response, request, session

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class CsrfRejected(Exception):
    """A state-changing request came without the session's CSRF token."""


def csrf_token() -> str:
    """This session's CSRF token (created on first use)."""
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return str(token)


def rotate_csrf() -> None:
    """A fresh token when who is signed in changes (no fixation across logins)."""
    session["csrf"] = secrets.token_urlsafe(32)


def check_csrf() -> None:
    """Refuse an unsafe request whose token is missing or not this session's."""
    if request.method not in UNSAFE_METHODS:
        return
    expected = session.get("csrf")
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not expected or not hmac.compare_digest(str(expected).encode(), sent.encode()):
        CSRF_REJECTED.inc()
        raise CsrfRejected()


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` when it is a path on this site, else ``default``."""
    if not target:
        return default
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return default
    return target


def install_security(app: Flask) -> None:
    """CSRF check before each request; protective headers on each response."""
    app.before_request(check_csrf)
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if resp.mimetype == "text/html":
            # Pages hold per-user data (and tokens shown once): never cache them.
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp
