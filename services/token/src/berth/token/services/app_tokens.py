"""Application tokens: long-lived secrets for tools (docker login, CI, API).

Only the SHA-256 of a token is stored. The token is 32 random bytes, so a fast
hash is enough: guessing one is as hard as guessing the random bytes, and a
fast hash lets every request look a token up with one indexed query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from berth.common.errors import BadRequest, NotFound
from berth.common.events.base import Actor
from berth.common.events.identity import (
    ApplicationTokenCreated,
    ApplicationTokenDestroyed,
)
from berth.common.outbox import Outbox
from berth.token.errors import TAKEN, TOO_MANY_TOKENS
from berth.token.models import ApplicationToken, User, utcnow
from berth.token.services.passwords import new_token, token_digest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

# last_used_at is written at most this often, so steady use costs no writes.
TOUCH_INTERVAL = timedelta(seconds=60)


class ApplicationTokenService:
    """Create, list, use and revoke application tokens."""

    def __init__(self, *, outbox: Outbox, max_per_user: int = 5) -> None:
        self.outbox = outbox
        self.max_per_user = max_per_user

    def of_user(self, session: Session, user_id: int) -> Sequence[ApplicationToken]:
        """The tokens of ``user_id``."""
        return session.scalars(select(ApplicationToken)
                               .where(ApplicationToken.user_id == user_id)
                               .order_by(ApplicationToken.id)).all()

    def create(self, session: Session, user: User, application: str, *,
               actor: Actor) -> tuple[ApplicationToken, str]:
        """A new token for ``user``; returns it and its plain value (shown once)."""
        application = (application or "").strip()
        if not application or len(application) > 255:
            raise BadRequest("application is required (at most 255 characters)",
                             detail={"field": "application"})
        count = session.scalar(select(func.count(ApplicationToken.id))
                               .where(ApplicationToken.user_id == user.id)) or 0
        if count >= self.max_per_user:
            raise BadRequest(f"users cannot have more than {self.max_per_user} "
                             "application tokens", code=TOO_MANY_TOKENS)
        if session.scalar(select(ApplicationToken.id).where(
                ApplicationToken.user_id == user.id,
                ApplicationToken.application == application)) is not None:
            raise BadRequest("application has already been taken", code=TAKEN,
                             detail={"field": "application"})
        plain = new_token()
        token = ApplicationToken(user_id=user.id, application=application,
                                 token_hash=token_digest(plain), created_at=utcnow())
        session.add(token)
        session.flush()
        self.outbox.add(session, ApplicationTokenCreated(
            user_id=user.id, username=user.username, token_id=token.id,
            application=application), actor=actor)
        return token, plain

    def get(self, session: Session, token_id: int) -> ApplicationToken:
        """The token with ``token_id`` or 404."""
        token = session.get(ApplicationToken, token_id)
        if token is None:
            raise NotFound("application token not found")
        return token

    def destroy(self, session: Session, token: ApplicationToken, *, actor: Actor) -> None:
        """Revoke ``token``."""
        user = session.get(User, token.user_id)
        session.delete(token)
        session.flush()
        self.outbox.add(session, ApplicationTokenDestroyed(
            user_id=token.user_id, username=user.username if user else "",
            token_id=token.id, application=token.application), actor=actor)

    def match(self, session: Session, user: User, secret: str) -> ApplicationToken | None:
        """The token of ``user`` whose value is ``secret``, if any."""
        token = session.scalar(select(ApplicationToken).where(
            ApplicationToken.token_hash == token_digest(secret)))
        if token is None or token.user_id != user.id:
            return None
        return token

    def touch(self, token: ApplicationToken) -> bool:
        """Record use; True when it was written (not within TOUCH_INTERVAL)."""
        now = utcnow()
        if self.recently_used(token.last_used_at, now):
            return False
        token.last_used_at = now
        return True

    @staticmethod
    def recently_used(last_used_at: datetime | None, now: datetime | None = None) -> bool:
        """True when a use at ``last_used_at`` needs no new touch yet."""
        return last_used_at is not None \
            and (now or utcnow()) - last_used_at < TOUCH_INTERVAL
