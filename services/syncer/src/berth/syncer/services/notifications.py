"""Registry notifications -> ``registry.manifest.*`` events.

The whole envelope is validated before anything is written, so a malformed
body is refused as a whole and never half-applied. Each kept event goes to
the outbox and updates the observed state in the caller's transaction; the
envelope id is derived from the registry's event id, so a redelivered
notification is recognised here and, should it slip through, downstream.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from berth.common.events.base import Actor, Envelope
from berth.common.events.registry import ManifestDeleted, ManifestPulled, ManifestPushed
from berth.common.outbox import Outbox
from berth.syncer.models import SeenNotification
from berth.syncer.names import valid_digest, valid_repository, valid_tag
from berth.syncer.registries import Registry
from berth.syncer.registry_client import MANIFEST_TYPES, USER_AGENT
from berth.syncer.services import observed
from sqlalchemy import select
from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)

EVENT_NAMESPACE = uuid.UUID("6f0d3c1e-6a43-4c51-9b7e-2f1f5d8a9c10")
KNOWN_MANIFEST_TYPES = frozenset(MANIFEST_TYPES) | {
    "application/vnd.docker.distribution.manifest.v1+json",
}
SERVICE_ACTOR = "berth"   # the token sub of Berth's own registry calls
MAX_EVENTS = 1000


class MalformedNotification(ValueError):
    """The body is not a notification envelope we can read."""


@dataclass(frozen=True)
class RegistryEvent:
    """The parts of one registry event the syncer uses."""

    id: str
    action: str
    timestamp: datetime | None
    repository: str
    digest: str
    tag: str | None
    media_type: str | None
    size: int | None
    actor: str
    source_addr: str | None
    method: str | None
    useragent: str | None


def derive_event_id(registry: str, registry_event_id: str) -> str:
    """The bus event id of a registry event: the same on every redelivery."""
    return uuid.uuid5(EVENT_NAMESPACE, f"{registry}\0{registry_event_id}").hex


def parse(body: Any) -> list[RegistryEvent]:
    """Validate an envelope; raise MalformedNotification naming the problem."""
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise MalformedNotification("body must be an object with an 'events' list")
    raw = body["events"]
    if len(raw) > MAX_EVENTS:
        raise MalformedNotification(f"at most {MAX_EVENTS} events per envelope")
    return [_event(i, item) for i, item in enumerate(raw)]


def _text(obj: dict[str, Any], key: str, where: str, required: bool = False,
          limit: int = 255) -> str | None:
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise MalformedNotification(f"{where}.{key} is required")
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise MalformedNotification(f"{where}.{key} must be a string of at most "
                                    f"{limit} characters")
    return value


def _section(item: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = item.get(key) or {}
    if not isinstance(value, dict):
        raise MalformedNotification(f"{where}.{key} must be an object")
    return value


def _event(index: int, item: Any) -> RegistryEvent:
    where = f"events[{index}]"
    if not isinstance(item, dict):
        raise MalformedNotification(f"{where} must be an object")
    target = _section(item, "target", where)
    request = _section(item, "request", where)
    actor = _section(item, "actor", where)
    size = target.get("size", target.get("length"))
    if size is not None and (not isinstance(size, int) or isinstance(size, bool)
                             or size < 0):
        raise MalformedNotification(f"{where}.target.size must be a non-negative integer")
    repository = str(_text(target, "repository", where + ".target", required=True))
    digest = _text(target, "digest", where + ".target", limit=100) or ""
    tag = _text(target, "tag", where + ".target", limit=128)
    # The registry never sends these; someone holding a leaked secret might.
    if not valid_repository(repository):
        raise MalformedNotification(f"{where}.target.repository is not a valid name")
    if digest and not valid_digest(digest):
        raise MalformedNotification(f"{where}.target.digest is not a valid digest")
    if tag is not None and not valid_tag(tag):
        raise MalformedNotification(f"{where}.target.tag is not a valid tag")
    return RegistryEvent(
        id=str(_text(item, "id", where, required=True, limit=128)),
        action=str(_text(item, "action", where, required=True, limit=32)),
        timestamp=_timestamp(item.get("timestamp"), where),
        repository=repository,
        digest=digest,
        tag=tag,
        media_type=_text(target, "mediaType", where + ".target"),
        size=size,
        actor=_text(actor, "name", where + ".actor") or "",
        source_addr=_text(request, "addr", where + ".request"),
        method=_text(request, "method", where + ".request", limit=16),
        useragent=_text(request, "useragent", where + ".request", limit=1024),
    )


def _timestamp(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedNotification(f"{where}.timestamp must be a string")
    text = value.strip().replace("Z", "+00:00")
    # Go writes nanoseconds; Python reads at most microseconds.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits):]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise MalformedNotification(f"{where}.timestamp is not RFC 3339") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def relevant(event: RegistryEvent) -> bool:
    """Manifest push/pull/delete by someone other than the syncer itself."""
    if event.action == "delete":
        # Delete events carry no media type; a blob delete is indistinguishable
        # and harmless (its digest matches no tag).
        return bool(event.digest) and (event.media_type is None
                                       or event.media_type in KNOWN_MANIFEST_TYPES)
    if event.action not in ("push", "pull") or not event.digest:
        return False
    if event.media_type not in KNOWN_MANIFEST_TYPES:
        return False
    return not (event.action == "pull" and _own_read(event))


def _own_read(event: RegistryEvent) -> bool:
    # The reconcile's HEAD requests show up as pulls; they are not user activity.
    if event.actor == SERVICE_ACTOR:
        return True
    return not event.actor and (event.useragent or "").startswith(USER_AGENT)


class NotificationService:
    """Turns parsed registry events into stored events (the caller commits)."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def apply(self, session: Session, registry: Registry,
              events: list[RegistryEvent]) -> dict[str, int]:
        """Store the relevant, unseen events; return counts by outcome."""
        counts = {"stored": 0, "duplicate": 0, "ignored": 0}
        batch_ids: set[str] = set()
        for event in events:
            if not relevant(event):
                counts["ignored"] += 1
                continue
            event_id = derive_event_id(registry.service, event.id)
            if event_id in batch_ids or self._seen(session, event_id):
                counts["duplicate"] += 1
                continue
            batch_ids.add(event_id)
            session.add(SeenNotification(event_id=event_id, seen_at=observed.utcnow()))
            self._store(session, registry, event, event_id)
            counts["stored"] += 1
        return counts

    @staticmethod
    def _seen(session: Session, event_id: str) -> bool:
        return session.scalar(select(SeenNotification.id).where(
            SeenNotification.event_id == event_id)) is not None

    def _store(self, session: Session, registry: Registry, event: RegistryEvent,
               event_id: str) -> None:
        contract: type[ManifestPushed | ManifestPulled | ManifestDeleted]
        if event.action == "push":
            contract = ManifestPushed
            repo = observed.repository(session, registry.service, event.repository)
            if event.tag and repo is not None:
                observed.set_tag(session, repo, event.tag, event.digest,
                                 event.media_type, event.size)
        elif event.action == "delete":
            contract = ManifestDeleted
            repo = observed.repository(session, registry.service, event.repository,
                                       create=False)
            if repo is not None:
                observed.drop_digest(session, repo, event.digest)
        else:
            contract = ManifestPulled
        actor = Actor(name=event.actor or "anonymous", address=event.source_addr)
        manifest = contract(
            registry=registry.service, repository=event.repository,
            digest=event.digest, tag=event.tag, media_type=event.media_type,
            size=event.size, actor=event.actor or None,
            source_addr=event.source_addr, origin="notification")
        env = Envelope.wrap(manifest, producer="syncer", actor=actor,
                            event_id=event_id, occurred_at=event.timestamp)
        self.outbox.add_envelope(session, env)
        log.info("notification_stored", event_type=contract.TYPE,
                 registry=registry.service, event_id=event_id)
