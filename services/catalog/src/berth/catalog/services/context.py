"""What every domain operation needs: the session, the caller, the knobs and a
way to emit events that leave only after the caller commits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from berth.catalog.policy import Knobs, Subject
from berth.catalog.services.directory import UserLookup
from berth.common.auth import Principal
from berth.common.events.base import Actor, Event
from berth.common.outbox import Outbox
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass
class Ctx:
    """One unit of work on behalf of one caller."""

    session: Session
    outbox: Outbox
    knobs: Knobs
    subject: Subject = field(default_factory=Subject)
    actor: Actor = field(default_factory=Actor.system)
    # Finds a user the catalog has not mirrored yet (see services.directory).
    lookup_user: UserLookup | None = None

    @property
    def user_id(self) -> int | None:
        """The caller's user id (None for anonymous and the service)."""
        return self.subject.user_id

    def emit(self, event: Event) -> None:
        """Queue ``event``; it is published once the session commits."""
        self.outbox.add(self.session, event, actor=self.actor)


def subject_of(principal: Principal, enabled: bool = True) -> Subject:
    """The policy's view of a principal."""
    return Subject(kind=principal.kind, user_id=principal.id,
                   username=principal.username, admin=principal.admin,
                   enabled=enabled)


def actor_of(principal: Principal, address: str | None = None) -> Actor:
    """The event actor of a principal."""
    if principal.anonymous:
        return Actor(id=None, name="anonymous", address=address)
    return Actor(id=principal.id, name=principal.username, address=address)


def insert_or_get(session: Session, obj: T, lookup: Callable[[], T | None]) -> T:
    """Insert ``obj``; if a concurrent writer won the race, return theirs."""
    try:
        with session.begin_nested():
            session.add(obj)
            session.flush()
        return obj
    except IntegrityError:
        found = lookup()
        if found is None:
            raise
        return found
