"""The envelope (DESIGN.md "Events") and the base of every event contract.

A contract is a frozen dataclass with ``TYPE`` and ``VERSION``. Adding an
optional field keeps the version; anything else bumps it. Parsing ignores
unknown fields so older consumers keep working.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

E = TypeVar("E", bound="Event")
_REGISTRY: dict[str, type[Event]] = {}


class InvalidEvent(ValueError):
    """A message that is not a valid envelope or event (goes to dead-letter)."""


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who caused an event: a user (id and name), or ``system``."""

    id: int | None = None
    name: str = "system"
    address: str | None = None

    @classmethod
    def system(cls) -> Actor:
        """The actor of automatic work (sync, retention)."""
        return cls()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Event:
    """Base class of event contracts; subclasses set ``TYPE`` and ``VERSION``."""

    TYPE: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if cls.TYPE:
            _REGISTRY[cls.TYPE] = cls

    def to_data(self) -> dict[str, Any]:
        """The ``data`` part of the envelope."""
        return dataclasses.asdict(self)

    @classmethod
    def from_data(cls: type[E], data: dict[str, Any]) -> E:
        """Build from ``data``, ignoring unknown fields; raise InvalidEvent if short."""
        names = {f.name for f in dataclasses.fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in names})
        except TypeError as exc:
            raise InvalidEvent(f"{cls.TYPE}: {exc}") from exc


def event_types() -> dict[str, type[Event]]:
    """Every contract known to this process, by type."""
    return dict(_REGISTRY)


@dataclasses.dataclass(frozen=True)
class Envelope:
    """What travels on the bus."""

    id: str
    type: str
    version: int
    occurred_at: str
    producer: str
    correlation_id: str | None
    actor: dict[str, Any]
    data: dict[str, Any]

    @classmethod
    def wrap(cls, event: Event, *, producer: str, actor: Actor | None = None,
             correlation_id: str | None = None, event_id: str | None = None,
             occurred_at: datetime | None = None) -> Envelope:
        """Put ``event`` in a new envelope."""
        when = occurred_at or datetime.now(UTC)
        return cls(
            id=event_id or uuid.uuid4().hex,
            type=event.TYPE,
            version=event.VERSION,
            occurred_at=when.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            producer=producer,
            correlation_id=correlation_id,
            actor=(actor or Actor.system()).to_dict(),
            data=event.to_data(),
        )

    def to_json(self) -> str:
        """Serialised form."""
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"),
                          sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | bytes | dict[str, Any]) -> Envelope:
        """Parse a message body; raise InvalidEvent on anything malformed."""
        try:
            body = raw if isinstance(raw, dict) else json.loads(raw)
        except (ValueError, TypeError) as exc:
            raise InvalidEvent(f"not JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise InvalidEvent("envelope is not an object")
        try:
            env = cls(
                id=str(body["id"]), type=str(body["type"]),
                version=int(body["version"]), occurred_at=str(body["occurred_at"]),
                producer=str(body["producer"]),
                correlation_id=body.get("correlation_id"),
                actor=dict(body.get("actor") or {}), data=dict(body["data"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidEvent(f"bad envelope: {exc}") from exc
        if not env.id or not env.type:
            raise InvalidEvent("envelope without id or type")
        return env

    def actor_obj(self) -> Actor:
        """The actor as an :class:`Actor`."""
        a = self.actor
        return Actor(id=a.get("id"), name=a.get("name") or "system",
                     address=a.get("address"))


def parse_event(env: Envelope) -> Event | None:
    """The contract instance for ``env``, or None if the type is unknown here."""
    cls = _REGISTRY.get(env.type)
    if cls is None:
        return None
    if env.version > cls.VERSION:
        raise InvalidEvent(f"{env.type} v{env.version} is newer than v{cls.VERSION}")
    return cls.from_data(env.data)
