"""Registries, each with its global namespace and the hidden team owning it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import structlog
from berth.catalog import errors, names
from berth.catalog.models import Namespace, Registry, Team
from berth.catalog.services.context import Ctx, insert_or_get
from berth.common.events import catalog as ev
from sqlalchemy import select
from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)

HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(:\d{1,5})?$")


@dataclass(frozen=True)
class RegistrySpec:
    """What defines a registry (the default one comes from the config)."""

    name: str
    hostname: str
    service: str
    url: str
    use_ssl: bool = False
    notification_secret: str = ""
    external_hostname: str | None = None


def by_service(session: Session, service: str) -> Registry | None:
    """The registry whose token ``service`` is ``service``."""
    return session.scalar(select(Registry).where(Registry.service == service))


def global_namespace(session: Session, registry: Registry) -> Namespace | None:
    """The registry's global namespace."""
    return session.scalar(select(Namespace).where(
        Namespace.registry_id == registry.id, Namespace.is_global.is_(True)))


def ensure_global(session: Session, registry: Registry) -> Namespace:
    """Create the hidden global team and public global namespace if missing."""
    team_name = names.global_team_name(registry.id)

    def find_team() -> Team | None:
        return session.scalar(select(Team).where(Team.name == team_name))

    team = find_team() or insert_or_get(
        session, Team(name=team_name, hidden=True,
                      description=f"global namespace of {registry.name}"), find_team)
    existing = global_namespace(session, registry)
    if existing is not None:
        return existing
    # The global namespace has no name users type; its row name is the
    # registry's (unique per registry, never a valid component clash).
    ns = Namespace(registry_id=registry.id, name=f"~{registry.name}"[:255],
                   team_id=team.id, visibility="public", is_global=True,
                   description="The global namespace")

    def find_ns() -> Namespace | None:
        return global_namespace(session, registry)

    return insert_or_get(session, ns, find_ns)


def ensure_registry(session: Session, spec: RegistrySpec,
                    sync: bool = False) -> Registry:
    """Idempotently create ``spec``'s registry and its global namespace;
    ``sync`` makes an existing one match ``spec`` (the configured default)."""

    def find() -> Registry | None:
        return session.scalar(select(Registry).where(Registry.name == spec.name))

    registry = find()
    if registry is None:
        registry = insert_or_get(session, Registry(
            name=spec.name, hostname=spec.hostname, service=spec.service,
            url=spec.url, use_ssl=spec.use_ssl,
            notification_secret=spec.notification_secret,
            external_hostname=spec.external_hostname), find)
        log.info("registry_ensured", registry=spec.name, service=spec.service)
    elif sync:
        _sync(registry, spec)
    ensure_global(session, registry)
    return registry


def _sync(registry: Registry, spec: RegistrySpec) -> None:
    # The default registry is described by the configuration: a restart with
    # a new URL, host or secret must take effect, not be ignored.
    changed = []
    for key in ("hostname", "service", "url"):
        if getattr(registry, key) != getattr(spec, key):
            setattr(registry, key, getattr(spec, key))
            changed.append(key)
    if spec.notification_secret and \
            registry.notification_secret != spec.notification_secret:
        registry.notification_secret = spec.notification_secret
        changed.append("notification_secret")
    if changed:
        log.info("registry_updated_from_config", registry=spec.name, changed=changed)


def list_registries(session: Session) -> list[Registry]:
    """Every registry, oldest first."""
    return list(session.scalars(select(Registry).order_by(Registry.id)))


def get(session: Session, registry_id: int) -> Registry:
    """One registry or 404."""
    registry = session.get(Registry, registry_id)
    if registry is None:
        raise errors.not_found("registry")
    return registry


def validate(session: Session, data: dict[str, Any],
             current: Registry | None = None) -> dict[str, list[str]]:
    """Field problems of a registry body (Portus' validate messages)."""
    messages: dict[str, list[str]] = {}
    for key in ("name", "hostname", "service"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            messages.setdefault(key, []).append(f"{key} can't be blank")
            continue
        if key != "name" and not HOSTNAME.match(value):
            messages.setdefault(key, []).append(f"{key} must be host or host:port")
        column = getattr(Registry, key)
        other = session.scalar(select(Registry).where(column == value))
        if other is not None and (current is None or other.id != current.id):
            messages.setdefault(key, []).append(f"{key} has already been taken")
    external = data.get("external_hostname")
    if external and (not isinstance(external, str) or not HOSTNAME.match(external)):
        messages.setdefault("external_hostname", []).append(
            "external_hostname must be host or host:port")
    url = data.get("url")
    if url is not None and (not isinstance(url, str)
                            or not re.match(r"^https?://[^\s/]+", url)):
        messages.setdefault("url", []).append("url must be an http(s) URL")
    return messages


def create(ctx: Ctx, data: dict[str, Any]) -> Registry:
    """Add a registry (admin); 422 with every field problem."""
    for key in ("name", "hostname"):
        if not data.get(key):
            raise errors.Invalid(f"{key} is required", detail={"field": key})
    data = dict(data)
    data.setdefault("service", data["hostname"])
    use_ssl = bool(data.get("use_ssl"))
    data.setdefault("url", f"{'https' if use_ssl else 'http'}://{data['hostname']}")
    problems = validate(ctx.session, data)
    if problems:
        raise errors.Invalid("invalid registry", detail={"messages": problems})
    registry = ensure_registry(ctx.session, RegistrySpec(
        name=data["name"], hostname=data["hostname"], service=data["service"],
        url=data["url"], use_ssl=use_ssl,
        notification_secret=str(data.get("notification_secret") or ""),
        external_hostname=data.get("external_hostname") or None))
    ctx.emit(ev.RegistryCreated(entity_id=registry.id, name=registry.name,
                                registry=registry.service))
    return registry


def update(ctx: Ctx, registry: Registry, data: dict[str, Any]) -> Registry:
    """Change a registry's fields (admin)."""
    problems = validate(ctx.session, data, current=registry)
    if problems:
        raise errors.Invalid("invalid registry", detail={"messages": problems})
    changed: list[str] = []
    for key in ("name", "hostname", "service", "url", "external_hostname",
                "notification_secret"):
        if key in data and data[key] is not None and getattr(registry, key) != data[key]:
            setattr(registry, key, data[key] or None if key == "external_hostname"
                    else data[key])
            changed.append(key)
    use_ssl = data.get("use_ssl")
    if use_ssl is not None and registry.use_ssl != bool(use_ssl):
        registry.use_ssl = bool(use_ssl)
        changed.append("use_ssl")
    if changed:
        ctx.session.flush()
        ctx.emit(ev.RegistryUpdated(entity_id=registry.id, name=registry.name,
                                    registry=registry.service,
                                    details={"changed": changed}))
    return registry
