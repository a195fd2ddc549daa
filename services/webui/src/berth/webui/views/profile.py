"""My profile: application tokens (shown once), password, display name."""

from __future__ import annotations

from typing import Any

from berth.webui.sessions import api, current_user, login_required, sign_out
from berth.webui.views.forms import attempt
from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

bp = Blueprint("profile", __name__)


def _me_id() -> int:
    me = current_user() or {}
    return int(me.get("id") or 0)


def _render(new_token: dict[str, Any] | None = None, status: int = 200
            ) -> tuple[str, int]:
    client = api()
    user = client.user(_me_id())
    tokens = client.application_tokens(_me_id())
    return render_template("profile.html", user=user, tokens=tokens,
                           new_token=new_token), status


@bp.get("/profile")
@login_required
def show() -> tuple[str, int]:
    """The profile page."""
    return _render()


@bp.post("/profile/tokens")
@login_required
def create_token() -> Response | tuple[str, int]:
    """Create an application token and show its value this once (never stored)."""
    application = (request.form.get("application") or "").strip()
    created = attempt(lambda: api().create_application_token(_me_id(), application))
    if not created:
        return redirect(url_for("profile.show"))
    return _render(new_token=created, status=201)


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> Response:
    """Revoke one of my application tokens."""
    attempt(lambda: api().revoke_application_token(token_id), "Token revoked.")
    return redirect(url_for("profile.show"))


@bp.post("/profile/password")
@login_required
def change_password() -> Response:
    """Change my password (then sign in again: the token service revokes sessions)."""
    current = request.form.get("current_password") or ""
    new = request.form.get("password") or ""
    if not current or not new:
        flash("Enter your current and your new password.", "error")
    elif new != request.form.get("password_confirmation"):
        flash("The two new passwords differ.", "error")
    else:
        done = attempt(lambda: api().update_user(
            _me_id(), {"current_password": current, "password": new}) or True)
        if done:
            sign_out()
            flash("Password changed. Please sign in with your new password.", "success")
            return redirect(url_for("auth.login"))
    return redirect(url_for("profile.show"))


@bp.post("/profile/display_name")
@login_required
def display_name() -> Response:
    """Change my display name."""
    name = (request.form.get("display_name") or "").strip()
    attempt(lambda: api().update_user(_me_id(), {"display_name": name}),
            "Display name saved.")
    return redirect(url_for("profile.show"))
