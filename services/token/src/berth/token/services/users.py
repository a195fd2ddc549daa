"""Users: creation (sign-up, admin, bootstrap, bots, LDAP), changes, deletion.

Services raise berth.common.errors and never commit; events go through the
outbox in the caller's transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from berth.common.errors import Conflict, Invalid, NotFound
from berth.common.events.base import Actor
from berth.common.events.identity import UserCreated, UserDeleted, UserUpdated
from berth.common.outbox import Outbox
from berth.token.errors import LAST_ADMIN, SELF_CHANGE, TAKEN
from berth.token.models import FirstUser, RefreshToken, User, utcnow
from berth.token.services.passwords import Passwords, VerificationCache
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

# Usernames become personal namespaces, so they follow the registry's
# repository component grammar (lower case, separators inside).
USERNAME = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
RESERVED = frozenset({"berth", "portus"})


@dataclass(frozen=True)
class Changes:
    """What a PUT may change (None = leave as is)."""

    email: str | None = None
    display_name: str | None = None
    password: str | None = None
    admin: bool | None = None
    enabled: bool | None = None


def actor_of(user: User | None, address: str | None = None) -> Actor:
    """The event actor for ``user`` (system when None)."""
    if user is None:
        return Actor(address=address) if address else Actor.system()
    return Actor(id=user.id, name=user.username, address=address)


def updated_event(user: User, changes: list[str]) -> UserUpdated:
    """``identity.user.updated`` with the user's current state."""
    return UserUpdated(user_id=user.id, username=user.username, admin=user.admin,
                       enabled=user.enabled, changes=changes, bot=user.bot,
                       email=user.email, display_name=user.display_name)


class UserService:
    """Everything that changes users."""

    def __init__(self, *, passwords: Passwords, cache: VerificationCache,
                 outbox: Outbox, password_min_length: int = 8) -> None:
        self.passwords = passwords
        self.cache = cache
        self.outbox = outbox
        self.password_min_length = password_min_length

    # -- queries -------------------------------------------------------------

    def count(self, session: Session) -> int:
        """How many users exist."""
        return int(session.scalar(select(func.count(User.id))) or 0)

    def get(self, session: Session, user_id: int) -> User:
        """The user with ``user_id`` or 404."""
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("user not found")
        return user

    def find(self, session: Session, ref: str) -> User:
        """By id or e-mail (Portus' ``GET /users/:id``), or 404."""
        user = session.get(User, int(ref)) if ref.isdigit() and len(ref) < 12 else None
        if user is None:
            user = session.scalar(select(User).where(User.email == ref))
        if user is None:
            raise NotFound("user not found")
        return user

    def by_username(self, session: Session, username: str) -> User | None:
        """The user named ``username``, if any."""
        return session.scalar(select(User).where(User.username == username))

    def page(self, session: Session, *, sort: str, descending: bool,
             offset: int, limit: int | None) -> tuple[Sequence[User], int]:
        """A page of users and the total."""
        column = getattr(User, sort)
        query = select(User).order_by(column.desc() if descending else column.asc(),
                                      User.id)
        if limit is not None:
            query = query.offset(offset).limit(limit)
        return session.scalars(query).all(), self.count(session)

    # -- changes -------------------------------------------------------------

    def create(self, session: Session, *, username: str, email: str | None,
               password: str | None, display_name: str | None = None,
               admin: bool = False, bot: bool = False, ldap_dn: str | None = None,
               actor: Actor | None = None, source: str = "database") -> User:
        """Validate and add a user; 422 naming the fields that are wrong."""
        problems: dict[str, str] = {}
        if not USERNAME.fullmatch(username or "") or len(username) > 255:
            problems["username"] = "must be lower case letters, digits and . _ -"
        elif username in RESERVED:
            problems["username"] = "is reserved"
        if email is not None and (not EMAIL.fullmatch(email) or len(email) > 255):
            problems["email"] = "is invalid"
        elif email is None and source == "database" and not bot:
            problems["email"] = "is required"
        if bot and password is not None:
            problems["password"] = "bots have no password; they use application tokens"
        elif password is None and not bot and ldap_dn is None:
            problems["password"] = "is required"
        elif password is not None:
            self._check_password(password, problems)
        if display_name is not None and len(display_name) > 255:
            problems["display_name"] = "is too long"
        if problems:
            raise Invalid("invalid user", detail={"fields": problems})
        self._unique(session, username=username, email=email)
        user = User(username=username, email=email, display_name=display_name,
                    password_hash=self.passwords.hash(password) if password else None,
                    admin=admin, enabled=True, bot=bot, ldap_dn=ldap_dn,
                    failed_attempts=0, password_changed_at=utcnow())
        session.add(user)
        session.flush()
        self.outbox.add(session, UserCreated(
            user_id=user.id, username=user.username, email=user.email, admin=admin,
            bot=bot, enabled=True, source=source, display_name=user.display_name),
            actor=actor or actor_of(user))
        return user

    def update(self, session: Session, user: User, changes: Changes, *,
               acting: User | None, actor: Actor) -> list[str]:
        """Apply ``changes``; return the names of the fields that changed."""
        problems: dict[str, str] = {}
        changed: list[str] = []
        was_admin = user.admin and user.enabled
        if acting is not None and acting.id == user.id:
            if changes.admin is not None and changes.admin != user.admin:
                raise Invalid("you cannot change your own admin flag", code=SELF_CHANGE)
            if changes.enabled is not None and changes.enabled != user.enabled:
                raise Invalid("you cannot disable yourself", code=SELF_CHANGE)
        if changes.email is not None and changes.email != user.email:
            if not EMAIL.fullmatch(changes.email) or len(changes.email) > 255:
                problems["email"] = "is invalid"
            else:
                self._unique(session, email=changes.email)
                user.email = changes.email
                changed.append("email")
        if changes.display_name is not None and changes.display_name != user.display_name:
            if len(changes.display_name) > 255:
                problems["display_name"] = "is too long"
            else:
                user.display_name = changes.display_name or None
                changed.append("display_name")
        if changes.password is not None:
            self._check_password(changes.password, problems)
            if "password" not in problems:
                user.password_hash = self.passwords.hash(changes.password)
                user.password_changed_at = utcnow()
                changed.append("password")
        if problems:
            raise Invalid("invalid user", detail={"fields": problems})
        if changes.admin is not None and changes.admin != user.admin:
            user.admin = changes.admin
            changed.append("admin")
        if changes.enabled is not None and changes.enabled != user.enabled:
            user.enabled = changes.enabled
            changed.append("enabled")
            if user.enabled:
                user.failed_attempts = 0
                user.locked_until = None
        if was_admin and not (user.admin and user.enabled):
            self._keep_an_admin(session)
        if "password" in changed or "enabled" in changed:
            self.cache.forget_user(user.id)
            if "password" in changed or not user.enabled:
                self.revoke_refresh_tokens(session, user.id)
        if changed:
            session.flush()
            self.outbox.add(session, updated_event(user, changed), actor=actor)
        return changed

    def delete(self, session: Session, user: User, *, acting: User | None,
               actor: Actor) -> None:
        """Delete ``user`` (not yourself, not the last admin)."""
        if acting is not None and acting.id == user.id:
            raise Invalid("you cannot delete yourself", code=SELF_CHANGE)
        user_id, username = user.id, user.username
        was_admin = user.admin and user.enabled
        session.delete(user)
        session.flush()
        if was_admin:
            self._keep_an_admin(session)
        self.cache.forget_user(user_id)
        self.outbox.add(session, UserDeleted(user_id=user_id, username=username),
                        actor=actor)

    def revoke_refresh_tokens(self, session: Session, user_id: int) -> None:
        """Revoke every live refresh token of ``user_id``."""
        session.execute(update(RefreshToken)
                        .where(RefreshToken.user_id == user_id,
                               RefreshToken.revoked_at.is_(None))
                        .values(revoked_at=utcnow()))

    # -- helpers -------------------------------------------------------------

    def _check_password(self, password: str, problems: dict[str, Any]) -> None:
        if len(password) < self.password_min_length:
            problems["password"] = (f"is too short (minimum is "
                                    f"{self.password_min_length} characters)")
        elif len(password) > 1024:
            problems["password"] = "is too long"

    def _unique(self, session: Session, *, username: str | None = None,
                email: str | None = None) -> None:
        taken: dict[str, str] = {}
        if username is not None and self.by_username(session, username) is not None:
            taken["username"] = "has already been taken"
        if email is not None and session.scalar(
                select(User.id).where(User.email == email)) is not None:
            taken["email"] = "has already been taken"
        if taken:
            raise Invalid("invalid user", code=TAKEN, detail={"fields": taken})

    def claim_first(self, session: Session) -> bool:
        """True for exactly one caller ever: the first admin (bootstrap or the
        first sign-up); a concurrent second one gets False."""
        try:
            with session.begin_nested():
                session.add(FirstUser(id=1, created_at=utcnow()))
                session.flush()
        except IntegrityError:
            return False
        return True

    def email_taken(self, session: Session, email: str) -> bool:
        """True when a user already has ``email``."""
        return session.scalar(select(User.id).where(User.email == email)) is not None

    def _keep_an_admin(self, session: Session) -> None:
        session.flush()
        query = select(func.count(User.id)).where(User.admin.is_(True),
                                                  User.enabled.is_(True))
        if not session.scalar(query):
            raise Conflict("there must be at least one enabled admin", code=LAST_ADMIN)
