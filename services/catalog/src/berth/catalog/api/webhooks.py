"""Webhooks of a namespace (Portus' webhooks, webhook headers and deliveries
controllers, under the API v1 prefix)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from berth.catalog.api.helpers import ctx as make_ctx
from berth.catalog.api.helpers import listing
from berth.catalog.api.serializers import ts
from berth.catalog.models import Webhook, WebhookDelivery, WebhookHeader
from berth.catalog.services import webhooks
from berth.catalog.services.context import Ctx
from berth.catalog.webhooks.runtime import EXTENSION, WebhookRuntime
from berth.common.errors import Invalid
from berth.common.web import field, nested, page_params, request_data
from flask import Blueprint, Response, current_app, jsonify, request

bp = Blueprint("webhooks", __name__,
               url_prefix="/api/v1/namespaces/<int:namespace_id>/webhooks")


def _runtime() -> WebhookRuntime:
    value: WebhookRuntime = current_app.extensions[EXTENSION]
    return value


def header(h: WebhookHeader) -> dict[str, Any]:
    """WebhookHeaders entity."""
    return {"id": h.id, "name": h.name, "value": h.value, "webhook_id": h.webhook_id,
            "created_at": ts(h.created_at), "updated_at": ts(h.updated_at)}


def webhook(ctx: Ctx, hook: Webhook, allowed: dict[str, bool]) -> dict[str, Any]:
    """Webhooks entity; the password is never shown, only whether one is set."""
    return {"id": hook.id, "name": hook.name, "enabled": hook.enabled,
            "namespace_id": hook.namespace_id, "url": hook.url,
            "username": hook.username, "has_password": bool(hook.password_encrypted),
            "request_method": hook.request_method, "content_type": hook.content_type,
            "events": hook.event_list, "headers": [header(h) for h in hook.headers],
            "created_at": ts(hook.created_at), "updated_at": ts(hook.updated_at),
            **allowed}


def delivery(d: WebhookDelivery, attempts: bool = False) -> dict[str, Any]:
    """WebhookDeliveries entity plus the retry state (and the attempt log)."""
    out: dict[str, Any] = {
        "id": d.id, "uuid": d.uuid, "webhook_id": d.webhook_id,
        "created_at": ts(d.created_at), "updated_at": ts(d.updated_at),
        "status": d.status, "request_header": d.request_header,
        "request_body": d.request_body, "response_header": d.response_header,
        "response_body": d.response_body, "event": d.event_type, "state": d.state,
        "attempts": d.attempts, "next_attempt_at": ts(d.next_attempt_at),
        "duration_ms": d.duration_ms, "error": d.error,
        "resent_from_id": d.resent_from_id}
    if attempts:
        out["attempt_log"] = [{
            "number": a.number, "started_at": ts(a.started_at),
            "duration_ms": a.duration_ms, "status": a.status, "error": a.error,
            "request_header": a.request_header, "response_header": a.response_header,
            "response_body": a.response_body} for a in d.attempt_log]
    return out


def _fields(partial: bool) -> webhooks.Fields:
    data = nested(request_data(), "webhook")
    events = data.get("events")
    if events is not None and not isinstance(events, str | list):
        raise Invalid("events must be a list", detail={"field": "events"})
    return webhooks.Fields(
        name=field(data, "name", required=not partial),
        url=field(data, "url", required=not partial, max_length=2048),
        request_method=field(data, "request_method", required=False),
        content_type=field(data, "content_type", required=False),
        username=_optional(data, "username"), password=_optional(data, "password"),
        enabled=field(data, "enabled", required=False, kind=bool), events=events)


def _optional(data: dict[str, Any], name: str) -> str | None:
    # "" is meaningful here (it clears the value); None leaves it alone.
    value = data.get(name)
    if value is None or value == "":
        return None if value is None else ""
    result: str = field(data, name, required=False)
    return result


@bp.get("")
def index(namespace_id: int) -> Response:
    """The namespace's webhooks."""
    ctx = make_ctx(login=True)
    page = page_params(webhooks.SORT_KEYS)
    rows, total, facts = webhooks.list_webhooks(ctx, namespace_id, page)
    allowed = webhooks.decisions(ctx, facts)
    return listing([webhook(ctx, h, allowed) for h in rows], page, total)


@bp.post("")
def create(namespace_id: int) -> tuple[Response, int]:
    """Add a webhook; the answer holds its signing ``secret``, shown only now."""
    ctx = make_ctx(login=True)
    hook, secret, facts = webhooks.create(ctx, _runtime(), namespace_id,
                                          _fields(partial=False))
    ctx.session.commit()
    return jsonify({**webhook(ctx, hook, webhooks.decisions(ctx, facts)),
                    "secret": secret}), 201


@bp.get("/<int:webhook_id>")
def show(namespace_id: int, webhook_id: int) -> Response:
    """One webhook."""
    ctx = make_ctx(login=True)
    hook, facts = webhooks.get(ctx, namespace_id, webhook_id)
    return jsonify(webhook(ctx, hook, webhooks.decisions(ctx, facts)))


@bp.put("/<int:webhook_id>")
def update(namespace_id: int, webhook_id: int) -> Response:
    """Change a webhook: ``{"webhook": {...}}`` with any of its fields."""
    ctx = make_ctx(login=True)
    hook, facts = webhooks.update(ctx, _runtime(), namespace_id, webhook_id,
                                  _fields(partial=True))
    ctx.session.commit()
    return jsonify(webhook(ctx, hook, webhooks.decisions(ctx, facts)))


@bp.delete("/<int:webhook_id>")
def destroy(namespace_id: int, webhook_id: int) -> tuple[str, int]:
    """Remove a webhook and its delivery log."""
    ctx = make_ctx(login=True)
    webhooks.destroy(ctx, namespace_id, webhook_id)
    ctx.session.commit()
    return "", 204


@bp.put("/<int:webhook_id>/toggle_enabled")
def toggle_enabled(namespace_id: int, webhook_id: int) -> Response:
    """Flip ``enabled``."""
    ctx = make_ctx(login=True)
    hook, facts = webhooks.toggle(ctx, namespace_id, webhook_id)
    ctx.session.commit()
    return jsonify(webhook(ctx, hook, webhooks.decisions(ctx, facts)))


@bp.get("/<int:webhook_id>/headers")
def headers(namespace_id: int, webhook_id: int) -> Response:
    """The custom headers of a webhook."""
    ctx = make_ctx(login=True)
    hook, _ = webhooks.get(ctx, namespace_id, webhook_id)
    return listing([header(h) for h in hook.headers])


@bp.post("/<int:webhook_id>/headers")
def add_header(namespace_id: int, webhook_id: int) -> tuple[Response, int]:
    """``{"webhook_header": {"name", "value"}}``."""
    ctx = make_ctx(login=True)
    data = nested(request_data(), "webhook_header")
    row = webhooks.add_header(ctx, namespace_id, webhook_id, field(data, "name"),
                              field(data, "value", max_length=1024))
    ctx.session.commit()
    return jsonify(header(row)), 201


@bp.delete("/<int:webhook_id>/headers/<int:header_id>")
def remove_header(namespace_id: int, webhook_id: int, header_id: int
                  ) -> tuple[str, int]:
    """Stop sending a header."""
    ctx = make_ctx(login=True)
    webhooks.remove_header(ctx, namespace_id, webhook_id, header_id)
    ctx.session.commit()
    return "", 204


@bp.get("/<int:webhook_id>/deliveries")
def deliveries(namespace_id: int, webhook_id: int) -> Response:
    """The delivery log, newest first unless sorted otherwise."""
    ctx = make_ctx(login=True)
    page = page_params(webhooks.DELIVERY_SORT_KEYS)
    if "sort_order" not in request.args:
        page = replace(page, descending=True)
    rows, total = webhooks.list_deliveries(ctx, namespace_id, webhook_id, page)
    return listing([delivery(d) for d in rows], page, total)


@bp.get("/<int:webhook_id>/deliveries/<int:delivery_id>")
def show_delivery(namespace_id: int, webhook_id: int, delivery_id: int) -> Response:
    """One delivery with every attempt."""
    ctx = make_ctx(login=True)
    row = webhooks.get_delivery(ctx, namespace_id, webhook_id, delivery_id)
    return jsonify(delivery(row, attempts=True))


@bp.put("/<int:webhook_id>/deliveries/<int:delivery_id>")
@bp.post("/<int:webhook_id>/deliveries/<int:delivery_id>/resend")
def resend(namespace_id: int, webhook_id: int, delivery_id: int
           ) -> tuple[Response, int]:
    """Send a delivery's body again (a new delivery, due now)."""
    ctx = make_ctx(login=True)
    row = webhooks.resend(ctx, namespace_id, webhook_id, delivery_id)
    ctx.session.commit()
    return jsonify(delivery(row)), 202
