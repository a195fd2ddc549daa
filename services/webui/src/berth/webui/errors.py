"""What a browser sees when something goes wrong: an HTML page in the site's
layout (never a traceback), or the sign-in page when the session ended. The
JSON endpoints (/api/v1/_ping, /api/v1/health, /openapi.json) keep the one
JSON error shape."""

from __future__ import annotations

import structlog
from berth.common.errors import AppError, error_response
from berth.webui.api_client import ApiError, ServiceDown
from berth.webui.security import CsrfRejected
from berth.webui.sessions import AdminRequired, LoginRequired, sign_out
from flask import Flask, Response, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

log = structlog.get_logger(__name__)

_TITLES = {400: "Bad request", 403: "Not allowed", 404: "Not found",
           405: "Method not allowed", 409: "Conflict", 413: "Too large",
           422: "Invalid request", 429: "Too many attempts",
           500: "Something went wrong", 503: "Service unavailable"}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/openapi.json"


def error_page(status: int, message: str) -> tuple[str, int]:
    """The error page for ``status`` with ``message`` (escaped by Jinja)."""
    title = _TITLES.get(status, "Error")
    return render_template("error.html", status=status, title=title,
                           message=message), status


def _login_redirect(message: str) -> Response:
    if message:
        flash(message, "info")
    target = request.full_path if request.method == "GET" else request.path
    resp = redirect(url_for("auth.login", next=target.rstrip("?")))
    return resp  # type: ignore[return-value]


def install_error_pages(app: Flask) -> None:
    """Register the HTML error handlers (they replace the JSON ones for pages)."""

    @app.errorhandler(LoginRequired)
    def _login(err: LoginRequired) -> Response:
        return _login_redirect(err.message or "Please sign in to see that page.")

    @app.errorhandler(AdminRequired)
    def _admin(_err: AdminRequired) -> tuple[str, int]:
        return error_page(403, "This page is for administrators.")

    @app.errorhandler(CsrfRejected)
    def _csrf(_err: CsrfRejected) -> tuple[str, int]:
        return error_page(400, "The form expired or did not come from this site. "
                               "Go back, reload the page and try again.")

    @app.errorhandler(ServiceDown)
    def _down(err: ServiceDown) -> tuple[str, int]:
        return error_page(503, err.message)

    @app.errorhandler(ApiError)
    def _api(err: ApiError) -> Response | tuple[str, int]:
        if err.status == 401:
            # The API no longer accepts this session (user disabled, token revoked).
            sign_out()
            return _login_redirect("Your session has ended. Please sign in again.")
        if err.status == 404:
            return error_page(404, "There is nothing here, or you may not see it.")
        return error_page(err.status, err.message)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Response | tuple[str, int]:
        status = err.code or 500
        if _wants_json():
            app_err = AppError(err.description or err.name)
            app_err.status = status
            return error_response(app_err)
        return error_page(status, err.description or err.name)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Response | tuple[str, int]:
        log.exception("unhandled_exception", error_type=type(err).__name__)
        if _wants_json():
            return error_response(AppError("internal server error"))
        return error_page(500, "Something went wrong on our side. It has been logged.")
