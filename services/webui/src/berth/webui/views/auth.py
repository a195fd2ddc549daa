"""Sign in, sign up, sign out."""

from __future__ import annotations

import structlog
from berth.common.web import client_address
from berth.webui.api_client import ApiClient, ApiError, ServiceDown
from berth.webui.metrics import LOGINS
from berth.webui.security import safe_next
from berth.webui.sessions import current_user, sign_in, sign_out
from berth.webui.views.forms import config
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

log = structlog.get_logger(__name__)
bp = Blueprint("auth", __name__)


def _client() -> ApiClient:
    client: ApiClient = current_app.extensions["berth.webui.api"]
    return client.with_token(None, client_address())


def _login_error(exc: ApiError) -> str:
    if exc.status == 429:
        wait = f" in {exc.retry_after} seconds" if exc.retry_after else " later"
        return f"Too many failed sign-in attempts. Try again{wait}."
    if exc.status in (401, 403):
        return ("Wrong username or password, or the account is disabled or "
                "locked. After repeated failures an account is locked for a while.")
    return exc.message


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    """The sign-in form."""
    target = safe_next(request.values.get("next"))
    if current_user() is not None and request.method == "GET":
        return redirect(target)
    error, status = None, 200
    username = ""
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        if not username or not password:
            error, status = "Enter your username and password.", 422
        else:
            try:
                pair = _client().login(username, password)
            except ServiceDown:
                raise
            except ApiError as exc:
                LOGINS.labels("refused").inc()
                error, status = _login_error(exc), exc.status
            else:
                LOGINS.labels("ok").inc()
                sign_in(pair)
                return redirect(target)
    return render_template("login.html", error=error, username=username,
                           next=target), status


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> Response | tuple[str, int]:
    """Create an account, when sign-up is enabled."""
    if not config().signup_enabled:
        return render_template("error.html", status=404, title="Not found",
                               message="Sign-up is disabled on this Berth. Ask an "
                                       "administrator for an account."), 404
    error, status = None, 200
    form = {"username": "", "email": ""}
    if request.method == "POST":
        form = {"username": (request.form.get("username") or "").strip(),
                "email": (request.form.get("email") or "").strip()}
        password = request.form.get("password") or ""
        if not form["username"] or not form["email"] or not password:
            error, status = "Every field is required.", 422
        elif password != request.form.get("password_confirmation"):
            error, status = "The two passwords differ.", 422
        else:
            client = _client()
            try:
                client.signup(form["username"], form["email"], password)
                pair = client.login(form["username"], password)
            except ServiceDown:
                raise
            except ApiError as exc:
                error, status = exc.message, exc.status
            else:
                sign_in(pair)
                flash("Welcome to Berth! Your account is ready.", "success")
                return redirect(url_for("home.dashboard"))
    return render_template("signup.html", error=error, form=form), status


@bp.post("/logout")
def logout() -> Response:
    """Sign out."""
    sign_out()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
