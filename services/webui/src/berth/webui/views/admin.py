"""Administration: users, registries, sync, audit log, health of every service."""

from __future__ import annotations

from typing import Any

from berth.webui.api_client import ApiClient
from berth.webui.sessions import admin_required, api
from berth.webui.views.forms import attempt, config, list_params
from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_FILTERS = ("actor", "action", "namespace", "repository", "since", "until")
USER_ACTIONS = {"enable": {"enabled": True}, "disable": {"enabled": False},
                "make_admin": {"admin": True}, "revoke_admin": {"admin": False}}


@bp.get("/users")
@admin_required
def users() -> str:
    """Every user, with enable/disable and admin toggles."""
    return render_template("admin/users.html", users=api().users(**list_params()))


@bp.post("/users")
@admin_required
def create_user() -> BaseResponse:
    """Create a user or a bot."""
    fields: dict[str, Any] = {k: (request.form.get(k) or "").strip()
                              for k in ("username", "email", "password")}
    fields["bot"] = request.form.get("bot") == "on"
    if fields["bot"] and not fields["password"]:
        fields.pop("password")
    attempt(lambda: api().create_user(fields), f"User {fields['username']} created.")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>")
@admin_required
def update_user(user_id: int) -> BaseResponse:
    """Enable, disable, grant or revoke admin."""
    change = USER_ACTIONS.get(request.form.get("action") or "")
    if change is not None:
        attempt(lambda: api().update_user(user_id, change), "User updated.")
    return redirect(url_for("admin.users", page=request.form.get("page") or None))


@bp.route("/registries", methods=["GET", "POST"])
@admin_required
def registries() -> BaseResponse | str:
    """Registries, and a form to add one."""
    if request.method == "POST":
        fields = {k: (request.form.get(k) or "").strip()
                  for k in ("name", "hostname", "external_hostname")}
        fields_any: dict[str, Any] = {**fields,
                                      "use_ssl": request.form.get("use_ssl") == "on"}
        attempt(lambda: api().create_registry(fields_any),
                f"Registry {fields['name']} added.")
        return redirect(url_for("admin.registries"))
    return render_template("admin/registries.html", registries=api().registries())


@bp.route("/sync", methods=["GET", "POST"])
@admin_required
def sync() -> BaseResponse | str:
    """The last reconcile runs, and "sync now"."""
    if request.method == "POST":
        attempt(lambda: api().sync_now(), "A synchronisation has started.")
        return redirect(url_for("admin.sync"))
    return render_template("admin/sync.html", runs=api().sync_runs())


def _audit_filters() -> dict[str, str]:
    return {k: request.args[k].strip()[:255] for k in AUDIT_FILTERS
            if request.args.get(k, "").strip()}


@bp.get("/audit")
@admin_required
def audit() -> str:
    """The audit log, filtered, newest first."""
    filters = _audit_filters()
    events = api().audit_events(**list_params(**filters))
    return render_template("admin/audit.html", events=events, filters=filters,
                           verification=None)


@bp.get("/audit/verify")
@admin_required
def audit_verify() -> str:
    """Walk the hash chain and say whether it is intact."""
    events = api().audit_events(**list_params())
    return render_template("admin/audit.html", events=events, filters={},
                           verification=api().audit_verify())


@bp.get("/audit/export")
@admin_required
def audit_export() -> Response:
    """Download the (filtered) audit log as CSV or JSON Lines."""
    fmt = "jsonl" if request.args.get("format") == "jsonl" else "csv"
    upstream = api().audit_export(fmt, _audit_filters())
    # Streamed through: the log can be far larger than what should sit in memory.
    resp = Response(upstream.iter_content(64 * 1024), mimetype=upstream.headers.get(
        "Content-Type", "text/csv"))
    resp.call_on_close(upstream.close)
    resp.headers["Content-Disposition"] = upstream.headers.get(
        "Content-Disposition", f'attachment; filename="audit.{fmt}"')
    return resp


@bp.get("/health")
@admin_required
def health() -> str:
    """Health of every service."""
    client: ApiClient = current_app.extensions["berth.webui.api"]
    report = {svc: client.health(svc) for svc in ("token", "catalog", "syncer", "audit")}
    return render_template("admin/health.html", report=report, public_url=config().public_url)
