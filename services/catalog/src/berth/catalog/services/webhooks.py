"""Webhooks of a namespace: who may see and change them, their fields, headers
and deliveries (Portus' webhook policy: admins, and namespace owners when the
``create_webhook`` / ``manage_webhook`` permissions are on)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from berth.catalog import errors, policy
from berth.catalog.models import (
    CONTENT_TYPES,
    REQUEST_METHODS,
    WEBHOOK_EVENTS,
    Namespace,
    Webhook,
    WebhookDelivery,
    WebhookHeader,
)
from berth.catalog.policy import NamespaceFacts
from berth.catalog.services import namespaces
from berth.catalog.services.context import Ctx
from berth.catalog.webhooks import schedule
from berth.catalog.webhooks.crypto import new_secret
from berth.catalog.webhooks.runtime import WebhookRuntime
from berth.catalog.webhooks.ssrf import Refused, validate_url
from berth.common.events import catalog as ev
from berth.common.web import Page
from sqlalchemy import func, select

SORT_KEYS = ("id", "name", "created_at", "updated_at")
DELIVERY_SORT_KEYS = ("id", "created_at", "updated_at", "status")
DEFAULT_EVENTS = ("push", "delete")
TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,255}$")
# Headers Berth sets itself, or that would break the request framing.
RESERVED = {"host", "content-length", "transfer-encoding", "connection",
            "user-agent", "expect", "upgrade", "te", "trailer", "keep-alive",
            "proxy-authorization"}


@dataclass
class Fields:
    """What a create or update asks for (None: not given)."""

    name: str | None = None
    url: str | None = None
    request_method: str | None = None
    content_type: str | None = None
    username: str | None = None
    password: str | None = None
    enabled: bool | None = None
    events: Any = None


def _facts(ctx: Ctx, namespace_id: int) -> tuple[Namespace, NamespaceFacts]:
    return namespaces.get_visible(ctx, namespace_id)


def _may_view(ctx: Ctx, facts: NamespaceFacts) -> policy.Decision:
    s = ctx.subject
    if s.kind == "service" or (s.admin and s.enabled and not s.anonymous):
        return policy.allow("admin")
    if s.anonymous:
        return policy.deny("login_required")
    if policy.effective_role(s, facts) is not None:
        return policy.allow("namespace_member")
    return policy.deny("namespace_members_only")


def decisions(ctx: Ctx, facts: NamespaceFacts) -> dict[str, bool]:
    """``updatable``/``destroyable`` as Portus shows them."""
    manage = policy.can_manage_webhooks(ctx.subject, facts, ctx.knobs, create=False)
    return {"updatable": manage.allowed, "destroyable": manage.allowed}


def viewable(ctx: Ctx, namespace_id: int) -> tuple[Namespace, NamespaceFacts]:
    """A namespace whose webhooks the caller may see (404/403 otherwise)."""
    ns, facts = _facts(ctx, namespace_id)
    decision = _may_view(ctx, facts)
    if not decision.allowed:
        raise errors.denied(decision.rule)
    return ns, facts


def _manageable(ctx: Ctx, namespace_id: int, create: bool = False
                ) -> tuple[Namespace, NamespaceFacts]:
    ns, facts = viewable(ctx, namespace_id)
    decision = policy.can_manage_webhooks(ctx.subject, facts, ctx.knobs, create=create)
    if not decision.allowed:
        raise errors.denied(decision.rule)
    return ns, facts


def list_webhooks(ctx: Ctx, namespace_id: int, page: Page
                  ) -> tuple[list[Webhook], int, NamespaceFacts]:
    """A page of the namespace's webhooks, the total and the namespace facts."""
    ns, facts = viewable(ctx, namespace_id)
    where = Webhook.namespace_id == ns.id
    total = ctx.session.scalar(select(func.count(Webhook.id)).where(where)) or 0
    column = getattr(Webhook, page.sort_attr)
    query = select(Webhook).where(where).order_by(
        column.desc() if page.descending else column.asc(), Webhook.id)
    if not page.all:
        query = query.offset(page.offset).limit(page.per_page)
    return list(ctx.session.scalars(query)), total, facts


def _in(ctx: Ctx, ns: Namespace, webhook_id: int) -> Webhook:
    hook = ctx.session.get(Webhook, webhook_id)
    if hook is None or hook.namespace_id != ns.id:
        raise errors.not_found("webhook")
    return hook


def get(ctx: Ctx, namespace_id: int, webhook_id: int
        ) -> tuple[Webhook, NamespaceFacts]:
    """One webhook the caller may see."""
    ns, facts = viewable(ctx, namespace_id)
    return _in(ctx, ns, webhook_id), facts


def _choice(value: str | None, choices: tuple[str, ...], field: str) -> str | None:
    if value is not None and value not in choices:
        raise errors.Invalid(f"{field} must be one of {', '.join(choices)}",
                             detail={"field": field})
    return value


def _events(value: Any) -> str | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise errors.Invalid("events must be a list of push, delete, pull",
                             detail={"field": "events"})
    chosen = [e.strip() for e in items if e.strip()]
    if not chosen or any(e not in WEBHOOK_EVENTS for e in chosen):
        raise errors.Invalid("events must be a non-empty list of push, delete, pull",
                             detail={"field": "events"})
    return ",".join(e for e in WEBHOOK_EVENTS if e in chosen)


def _url(rt: WebhookRuntime, url: str) -> str:
    try:
        validate_url(url, rt.addresses)
    except Refused as exc:
        raise errors.Invalid(f"url is refused: {exc}", detail={"field": "url"}) from exc
    return url


def _apply(rt: WebhookRuntime, hook: Webhook, f: Fields) -> list[str]:
    changed = []
    values: dict[str, Any] = {
        "name": f.name, "url": _url(rt, f.url) if f.url is not None else None,
        "request_method": _choice(f.request_method, REQUEST_METHODS, "request_method"),
        "content_type": _choice(f.content_type, CONTENT_TYPES, "content_type"),
        "events": _events(f.events)}
    for attr, value in values.items():
        if value is not None and getattr(hook, attr, None) != value:
            setattr(hook, attr, value)
            changed.append(attr)
    if f.username is not None and f.username != (hook.username or ""):
        hook.username = f.username or None
        changed.append("username")
    if f.password is not None:
        # An empty password clears it; the stored one is never shown back.
        hook.password_encrypted = rt.vault.encrypt(f.password) if f.password else None
        changed.append("password")
    return changed


def _event(hook: Webhook, ns: Namespace, cls: Any, **details: Any) -> Any:
    # Only the host: a webhook URL's path or query often carries a token.
    host = urlsplit(hook.url).hostname or ""
    return cls(entity_id=hook.id, name=hook.name, namespace=ns.name,
               details={"host": host, **details})


def create(ctx: Ctx, rt: WebhookRuntime, namespace_id: int, f: Fields
           ) -> tuple[Webhook, str, NamespaceFacts]:
    """A new webhook and its signing secret (shown this once)."""
    ns, facts = _manageable(ctx, namespace_id, create=True)
    if not f.name:
        raise errors.Invalid("name is required", detail={"field": "name"})
    if not f.url:
        raise errors.Invalid("url is required", detail={"field": "url"})
    secret = new_secret()
    hook = Webhook(namespace_id=ns.id, name="", url="", request_method="POST",
                   content_type=CONTENT_TYPES[0], events=",".join(DEFAULT_EVENTS),
                   enabled=True if f.enabled is None else f.enabled,
                   secret_encrypted=rt.vault.encrypt(secret))
    _apply(rt, hook, f)
    ctx.session.add(hook)
    ctx.session.flush()
    ctx.emit(_event(hook, ns, ev.WebhookCreated, events=hook.event_list))
    return hook, secret, facts


def update(ctx: Ctx, rt: WebhookRuntime, namespace_id: int, webhook_id: int,
           f: Fields) -> tuple[Webhook, NamespaceFacts]:
    """Change a webhook's fields (``enabled`` too, as its own event)."""
    ns, facts = _manageable(ctx, namespace_id)
    hook = _in(ctx, ns, webhook_id)
    changed = _apply(rt, hook, f)
    if changed:
        ctx.emit(_event(hook, ns, ev.WebhookUpdated, changed=changed))
    if f.enabled is not None and f.enabled != hook.enabled:
        _set_enabled(ctx, ns, hook, f.enabled)
    ctx.session.flush()
    return hook, facts


def _set_enabled(ctx: Ctx, ns: Namespace, hook: Webhook, enabled: bool) -> None:
    hook.enabled = enabled
    ctx.emit(_event(hook, ns, ev.WebhookEnabled if enabled else ev.WebhookDisabled))


def toggle(ctx: Ctx, namespace_id: int, webhook_id: int
           ) -> tuple[Webhook, NamespaceFacts]:
    """Enable a disabled webhook, disable an enabled one."""
    ns, facts = _manageable(ctx, namespace_id)
    hook = _in(ctx, ns, webhook_id)
    _set_enabled(ctx, ns, hook, not hook.enabled)
    ctx.session.flush()
    return hook, facts


def destroy(ctx: Ctx, namespace_id: int, webhook_id: int) -> None:
    """Remove a webhook with its headers and deliveries."""
    ns, _ = _manageable(ctx, namespace_id)
    hook = _in(ctx, ns, webhook_id)
    ctx.emit(_event(hook, ns, ev.WebhookDestroyed))
    ctx.session.delete(hook)
    ctx.session.flush()


def add_header(ctx: Ctx, namespace_id: int, webhook_id: int, name: str,
               value: str) -> WebhookHeader:
    """A custom header sent with every delivery."""
    ns, _ = _manageable(ctx, namespace_id)
    hook = _in(ctx, ns, webhook_id)
    if not TOKEN.match(name) or name.lower() in RESERVED \
            or name.lower().startswith("x-berth-"):
        raise errors.Invalid(f"{name!r} can't be used as a header name",
                             detail={"field": "name"})
    if any(c in value for c in "\r\n\0"):
        raise errors.Invalid("a header value is one line", detail={"field": "value"})
    if any(h.name.lower() == name.lower() for h in hook.headers):
        raise errors.name_taken("name", name)
    header = WebhookHeader(webhook_id=hook.id, name=name, value=value)
    ctx.session.add(header)
    ctx.session.flush()
    ctx.emit(_event(hook, ns, ev.WebhookUpdated, header_added=name))
    return header


def remove_header(ctx: Ctx, namespace_id: int, webhook_id: int,
                  header_id: int) -> None:
    """Stop sending a custom header."""
    ns, _ = _manageable(ctx, namespace_id)
    hook = _in(ctx, ns, webhook_id)
    header = ctx.session.get(WebhookHeader, header_id)
    if header is None or header.webhook_id != hook.id:
        raise errors.not_found("webhook header")
    ctx.emit(_event(hook, ns, ev.WebhookUpdated, header_removed=header.name))
    ctx.session.delete(header)
    ctx.session.flush()


def list_deliveries(ctx: Ctx, namespace_id: int, webhook_id: int, page: Page
                    ) -> tuple[list[WebhookDelivery], int]:
    """A page of a webhook's deliveries (newest first by default)."""
    hook, _ = get(ctx, namespace_id, webhook_id)
    where = WebhookDelivery.webhook_id == hook.id
    total = ctx.session.scalar(select(func.count(WebhookDelivery.id))
                               .where(where)) or 0
    column = getattr(WebhookDelivery, page.sort_attr)
    query = select(WebhookDelivery).where(where).order_by(
        column.desc() if page.descending else column.asc(), WebhookDelivery.id)
    if not page.all:
        query = query.offset(page.offset).limit(page.per_page)
    return list(ctx.session.scalars(query)), total


def get_delivery(ctx: Ctx, namespace_id: int, webhook_id: int,
                 delivery_id: int) -> WebhookDelivery:
    """One delivery of a webhook the caller may see."""
    hook, _ = get(ctx, namespace_id, webhook_id)
    delivery = ctx.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.webhook_id != hook.id:
        raise errors.not_found("webhook delivery")
    return delivery


def resend(ctx: Ctx, namespace_id: int, webhook_id: int,
           delivery_id: int) -> WebhookDelivery:
    """Deliver the same body again, as a new delivery due now."""
    ns, _ = _manageable(ctx, namespace_id)
    hook = _in(ctx, ns, webhook_id)
    original = ctx.session.get(WebhookDelivery, delivery_id)
    if original is None or original.webhook_id != hook.id:
        raise errors.not_found("webhook delivery")
    return schedule.resend(ctx.session, original)
