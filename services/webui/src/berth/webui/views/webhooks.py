"""Webhooks of a namespace: list and create, one webhook with its headers and
delivery log, one delivery with its attempts; re-send."""

from __future__ import annotations

from typing import Any

from berth.webui.sessions import api, login_required
from berth.webui.views.forms import attempt, list_params
from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

bp = Blueprint("webhooks", __name__)

METHODS = ("POST", "GET")
CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded")
EVENTS = ("push", "delete", "pull")
Json = dict[str, Any]


def _fields(creating: bool) -> Json:
    form = request.form
    fields: Json = {key: form[key].strip() for key in (
        "name", "url", "request_method", "content_type", "username")
        if key in form}
    if form.get("password") or form.get("clear_password"):
        fields["password"] = "" if form.get("clear_password") else form["password"]
    if creating or "events_present" in form:
        fields["events"] = [e for e in EVENTS if form.get(f"event_{e}")]
    return fields


def _choices() -> Json:
    return {"methods": METHODS, "content_types": CONTENT_TYPES, "events": EVENTS}


@bp.get("/namespaces/<int:ns_id>/webhooks")
@login_required
def index(ns_id: int) -> str:
    """The namespace's webhooks and, for its managers, a form to add one."""
    client = api()
    namespace = client.namespace(ns_id)
    hooks = client.webhooks(ns_id, **list_params())
    return render_template("webhooks.html", namespace=namespace, webhooks=hooks,
                           **_choices())


@bp.post("/namespaces/<int:ns_id>/webhooks")
@login_required
def create(ns_id: int) -> Response | str:
    """Add a webhook; its secret is shown on the next page, and only there."""
    created = attempt(lambda: api().create_webhook(ns_id, _fields(creating=True)),
                      "Webhook created.")
    if not created or not created.get("id"):
        return redirect(url_for("webhooks.index", ns_id=ns_id))
    return _show(ns_id, int(created["id"]), secret=created.get("secret"))


def _show(ns_id: int, hook_id: int, secret: str | None = None) -> str:
    client = api()
    namespace = client.namespace(ns_id)
    hook = client.webhook(ns_id, hook_id)
    deliveries = client.webhook_deliveries(ns_id, hook_id, **list_params())
    return render_template("webhook.html", namespace=namespace, webhook=hook,
                           deliveries=deliveries, secret=secret, **_choices())


@bp.get("/namespaces/<int:ns_id>/webhooks/<int:hook_id>")
@login_required
def show(ns_id: int, hook_id: int) -> str:
    """One webhook: settings, headers, deliveries."""
    return _show(ns_id, hook_id)


@bp.post("/namespaces/<int:ns_id>/webhooks/<int:hook_id>")
@login_required
def update(ns_id: int, hook_id: int) -> Response:
    """Change the webhook's settings."""
    attempt(lambda: api().update_webhook(ns_id, hook_id, _fields(creating=False)),
            "Webhook updated.")
    return redirect(url_for("webhooks.show", ns_id=ns_id, hook_id=hook_id))


@bp.post("/namespaces/<int:ns_id>/webhooks/<int:hook_id>/toggle")
@login_required
def toggle(ns_id: int, hook_id: int) -> Response:
    """Enable or disable."""
    attempt(lambda: api().toggle_webhook(ns_id, hook_id))
    return redirect(url_for("webhooks.show", ns_id=ns_id, hook_id=hook_id))


@bp.post("/namespaces/<int:ns_id>/webhooks/<int:hook_id>/delete")
@login_required
def delete(ns_id: int, hook_id: int) -> Response:
    """Remove the webhook."""
    def remove() -> bool:
        api().delete_webhook(ns_id, hook_id)
        return True

    if attempt(remove, "Webhook removed."):
        return redirect(url_for("webhooks.index", ns_id=ns_id))
    return redirect(url_for("webhooks.show", ns_id=ns_id, hook_id=hook_id))


@bp.post("/namespaces/<int:ns_id>/webhooks/<int:hook_id>/headers")
@login_required
def add_header(ns_id: int, hook_id: int) -> Response:
    """Add a custom header."""
    name = (request.form.get("name") or "").strip()
    value = (request.form.get("value") or "").strip()
    attempt(lambda: api().add_webhook_header(ns_id, hook_id, name, value),
            f"Header {name} added.")
    return redirect(url_for("webhooks.show", ns_id=ns_id, hook_id=hook_id))


@bp.post("/namespaces/<int:ns_id>/webhooks/<int:hook_id>/headers/<int:header_id>"
         "/delete")
@login_required
def remove_header(ns_id: int, hook_id: int, header_id: int) -> Response:
    """Remove a custom header."""
    attempt(lambda: api().remove_webhook_header(ns_id, hook_id, header_id),
            "Header removed.")
    return redirect(url_for("webhooks.show", ns_id=ns_id, hook_id=hook_id))


@bp.get("/namespaces/<int:ns_id>/webhooks/<int:hook_id>/deliveries/<int:delivery_id>")
@login_required
def delivery(ns_id: int, hook_id: int, delivery_id: int) -> str:
    """One delivery: what was sent, what came back, every attempt."""
    client = api()
    namespace = client.namespace(ns_id)
    hook = client.webhook(ns_id, hook_id)
    row = client.webhook_delivery(ns_id, hook_id, delivery_id)
    return render_template("webhook_delivery.html", namespace=namespace,
                           webhook=hook, delivery=row)


@bp.post("/namespaces/<int:ns_id>/webhooks/<int:hook_id>/deliveries/"
         "<int:delivery_id>/resend")
@login_required
def resend(ns_id: int, hook_id: int, delivery_id: int) -> Response:
    """Send a delivery's body again."""
    attempt(lambda: api().resend_webhook_delivery(ns_id, hook_id, delivery_id),
            "The delivery will be sent again.")
    return redirect(url_for("webhooks.show", ns_id=ns_id, hook_id=hook_id))
