"""The one error shape and the Flask handlers that render it.

Body: ``{"message": str, "errors": [{"code", "message", "detail"}]}`` — the
``message`` keeps Portus clients working, ``errors`` is the registry spec's shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.exc import InterfaceError, OperationalError

if TYPE_CHECKING:
    from flask import Flask, Response

log = structlog.get_logger(__name__)

_HTTP_CODES = {
    400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "DENIED", 404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED", 406: "NOT_ACCEPTABLE", 409: "CONFLICT",
    413: "TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 422: "INVALID",
    429: "TOO_MANY_REQUESTS", 500: "INTERNAL_ERROR", 503: "UNAVAILABLE",
}


class AppError(Exception):
    """An error a client may see; services raise these, views never ``abort()``."""

    status = 500
    code = "INTERNAL_ERROR"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        detail: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.detail = detail or {}
        self.headers = headers or {}
        self.extra_errors = errors or []

    def body(self) -> dict[str, Any]:
        """The JSON body in the one error shape."""
        first = {"code": self.code, "message": self.message, "detail": self.detail}
        return {"message": self.message, "errors": [first, *self.extra_errors]}


class Invalid(AppError):
    """The request is well-formed but its content is invalid (422)."""

    status = 422
    code = "INVALID"


class BadRequest(AppError):
    """The request could not be parsed (400)."""

    status = 400
    code = "BAD_REQUEST"


class Unauthorized(AppError):
    """No or wrong credentials (401)."""

    status = 401
    code = "UNAUTHORIZED"


class Denied(AppError):
    """Authenticated but not allowed (403)."""

    status = 403
    code = "DENIED"


class NotFound(AppError):
    """Unknown, or not visible to the caller (404)."""

    status = 404
    code = "NOT_FOUND"


class Conflict(AppError):
    """The change conflicts with the current state (409)."""

    status = 409
    code = "CONFLICT"


class RateLimited(AppError):
    """Too many attempts; ``retry_after`` seconds until the next may succeed (429)."""

    status = 429
    code = "TOO_MANY_REQUESTS"

    def __init__(self, message: str, *, retry_after: int, **kw: Any) -> None:
        headers = {"Retry-After": str(max(1, int(retry_after)))}
        headers.update(kw.pop("headers", {}) or {})
        super().__init__(message, headers=headers, **kw)


class Unavailable(AppError):
    """A dependency is down; fail fast (503)."""

    status = 503
    code = "UNAVAILABLE"


def error_response(err: AppError) -> Response:
    """Render an :class:`AppError` as a Flask response."""
    from flask import jsonify

    resp = jsonify(err.body())
    resp.status_code = err.status
    for name, value in err.headers.items():
        resp.headers[name] = value
    return resp


def install_error_handlers(app: Flask) -> None:
    """Render every error raised in ``app`` with the one JSON shape."""
    from werkzeug.exceptions import HTTPException

    @app.errorhandler(AppError)
    def _app_error(err: AppError) -> Response:
        if err.status >= 500:
            log.warning("request_failed", code=err.code, status=err.status)
        return error_response(err)

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Response:
        status = err.code or 500
        message = err.description or err.name
        app_err = AppError(message, code=_HTTP_CODES.get(status, "ERROR"))
        app_err.status = status
        resp = error_response(app_err)
        for name, value in err.get_headers():
            if name.lower() != "content-type":
                resp.headers[name] = value
        return resp

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_down(err: Exception) -> Response:
        # Lost connections, refused logins, lock timeouts: the database is down
        # or overloaded, not the request wrong. Clients may retry a 503.
        log.warning("database_unavailable", error_type=type(err).__name__)
        return error_response(Unavailable("database unavailable, try again later"))

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Response:
        log.exception("unhandled_exception", error_type=type(err).__name__)
        return error_response(AppError("internal server error"))
