"""Turn a user name and a secret (password or application token) into a user.

Every refusal looks the same to the client (:data:`LOGIN_REFUSED`); the reason
goes to logs, metrics and the ``identity.login.failed`` event. Throttled and
locked accounts are refused before any secret is checked.

Steady state costs no slow hash and no write: application tokens are looked
up by SHA-256, recent password verifications are cached (see
:mod:`berth.token.services.passwords`), ``last_used_at`` and the login event
are written at most once a minute per token, and a cached password success
writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import structlog
from berth.common.db import after_commit
from berth.common.events.base import Actor
from berth.common.events.identity import LoginFailed, LoginSucceeded
from berth.common.outbox import Outbox
from berth.token import metrics
from berth.token.errors import AuthFailed, Throttled
from berth.token.models import User, utcnow
from berth.token.services import login_snapshot
from berth.token.services.app_tokens import ApplicationTokenService
from berth.token.services.directory import Directory
from berth.token.services.passwords import Passwords, VerificationCache, token_digest
from berth.token.services.throttle import Throttle, account_key, address_key
from berth.token.services.users import UserService, actor_of, updated_event
from sqlalchemy import Engine
from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)
MAX_SECRET = 1024


class Account(Protocol):
    """Who logged in, as far as the views need to know: a User row, or the
    steady state's copy of one."""

    @property
    def id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def admin(self) -> bool: ...
    @property
    def bot(self) -> bool: ...


@dataclass(frozen=True)
class AccountCopy:
    """An Account read without the ORM (the steady-state login)."""

    id: int
    username: str
    admin: bool
    bot: bool


@dataclass(frozen=True)
class Login:
    """A successful authentication."""

    user: Account
    method: str          # password, application_token, ldap
    cached: bool = False


@dataclass(frozen=True)
class _Verified:
    """A secret that matched ``user`` (enabled or not: checked afterwards)."""

    user: User
    method: str
    cached: bool = False


class CredentialService:
    """Checks credentials, throttles failures, records logins."""

    def __init__(self, *, users: UserService, tokens: ApplicationTokenService,
                 passwords: Passwords, cache: VerificationCache, throttle: Throttle,
                 outbox: Outbox, directory: Directory | None = None) -> None:
        self.users = users
        self.tokens = tokens
        self.passwords = passwords
        self.cache = cache
        self.throttle = throttle
        self.outbox = outbox
        self.directory = directory

    def authenticate(self, session: Session, username: str, secret: str, *,
                     address: str = "", client: str = "api") -> Login:
        """The login, or AuthFailed / Throttled (state recorded in ``session``;
        the caller commits either way)."""
        address = address or ""
        try:
            had_failures = self.throttle.check(session, username, address)
        except Throttled:
            self._failed(session, username, "throttled", address, client)
            raise
        except AuthFailed as exc:
            self._failed(session, username, exc.reason, address, client)
            raise
        try:
            verified = self._verify(session, username, secret)
        except AuthFailed as exc:
            self._record_failure(session, username, address)
            self._failed(session, username, exc.reason, address, client)
            raise
        user = verified.user
        if not user.enabled:
            # Right secret, disabled user: refused, but not a guessing attempt.
            self._failed(session, username, "disabled", address, client)
            raise AuthFailed("disabled")
        if had_failures:
            self.throttle.clear(session, username)
            user.failed_attempts = 0
            user.locked_until = None
        if not verified.cached:
            user.last_sign_in_at = utcnow()
            self.outbox.add(session, LoginSucceeded(
                username=user.username, user_id=user.id, method=verified.method,
                client=client, address=address or None),
                actor=actor_of(user, address or None))
        metrics.LOGINS.labels("succeeded", verified.method).inc()
        return Login(user=user, method=verified.method, cached=verified.cached)

    def recognise(self, engine: Engine, username: str, secret: str, *,
                  address: str = "") -> Login | None:
        """The login when one read proves it needs no write; otherwise None, and
        the caller runs :meth:`authenticate`.

        It decides exactly as :meth:`authenticate` does on the same rows, and
        answers only when that would succeed and write nothing: not throttled,
        no failures to clear, an enabled user, and either a cached password or
        an application token touched within ``TOUCH_INTERVAL``. Everything else
        (failures, first use, slow hashes, LDAP) takes the full path."""
        if not _plausible(username, secret):
            return None
        snapshot = login_snapshot.read(
            engine, username=username, digest=token_digest(secret),
            account_key=account_key(username),
            address_key=address_key(address) if address else None)
        if snapshot is None or not snapshot.enabled:
            return None
        try:
            if self.throttle.decide(snapshot.account, snapshot.address):
                return None  # failures to clear: a write
        except (Throttled, AuthFailed):
            return None  # refused: the full path records it
        if snapshot.password_hash is not None and self.cache.hit(
                snapshot.user_id, secret, snapshot.password_hash,
                snapshot.password_changed_at):
            metrics.PASSWORD_CACHE.labels("hit").inc()
            method = "password"
        elif snapshot.token_id is not None \
                and self.tokens.recently_used(snapshot.token_last_used_at):
            method = "application_token"
        else:
            return None
        metrics.LOGINS.labels("succeeded", method).inc()
        return Login(user=AccountCopy(id=snapshot.user_id, username=snapshot.username,
                                      admin=snapshot.admin, bot=snapshot.bot),
                     method=method, cached=True)

    def _verify(self, session: Session, username: str, secret: str) -> _Verified:
        if not _plausible(username, secret):
            raise AuthFailed("bad_credentials")
        user = self.users.by_username(session, username)
        # A cached password is the cheapest check (no query), so it goes first.
        if user is not None and user.password_hash is not None and self.cache.hit(
                user.id, secret, user.password_hash, user.password_changed_at):
            metrics.PASSWORD_CACHE.labels("hit").inc()
            return _Verified(user=user, method="password", cached=True)
        if user is not None:
            token = self.tokens.match(session, user, secret)
            if token is not None:
                # Touching writes at most once a minute; the event goes with it.
                return _Verified(user=user, method="application_token",
                             cached=not self.tokens.touch(token))
        if user is not None and user.password_hash is not None:
            metrics.PASSWORD_CACHE.labels("miss").inc()
            if self.passwords.verify(user.password_hash, secret):
                self._remember(session, user.id, secret, user.password_hash,
                               user.password_changed_at)
                return _Verified(user=user, method="password")
            raise AuthFailed("bad_credentials")
        if self.directory is not None and (user is None or (
                user.ldap_dn is not None and not user.bot)):
            return self._ldap(session, user, username, secret)
        self.passwords.waste_time(secret)
        raise AuthFailed("bad_credentials" if user is None or not user.bot
                         else "bot_password")

    def _ldap(self, session: Session, user: User | None, username: str,
              secret: str) -> _Verified:
        assert self.directory is not None
        if user is not None and self.cache.hit(user.id, secret, user.ldap_dn,
                                               user.password_changed_at):
            return _Verified(user=user, method="ldap", cached=True)
        entry = self.directory.authenticate(username, secret)  # may be unavailable
        if entry is None:
            raise AuthFailed("bad_credentials")
        if user is None:
            email = entry.email
            if email is not None and self.users.email_taken(session, email):
                email = None
            user = self.users.create(session, username=username, email=email,
                                     password=None, admin=entry.admin,
                                     ldap_dn=entry.dn, source="ldap",
                                     actor=Actor(name=username))
        else:
            changed = []
            if user.ldap_dn != entry.dn:
                user.ldap_dn = entry.dn
                changed.append("ldap_dn")
            if entry.admin and not user.admin:
                user.admin = True
                changed.append("admin")
            if changed:
                session.flush()
                self.outbox.add(session, updated_event(user, changed),
                                actor=Actor.system())
        self._remember(session, user.id, secret, user.ldap_dn, user.password_changed_at)
        return _Verified(user=user, method="ldap")

    def _remember(self, session: Session, user_id: int, secret: str,
                  verifier: str | None, changed_at: datetime | None) -> None:
        # Only a committed login is remembered: a login whose transaction is
        # rolled back and run again (see berth.common.db.read_mostly) verifies
        # again and records its success then.
        def remember() -> None:
            self.cache.remember(user_id, secret, verifier, changed_at)

        after_commit(session, remember)

    def _record_failure(self, session: Session, username: str, address: str) -> None:
        locked = self.throttle.record_failure(session, username, address)
        user = self.users.by_username(session, username) if username else None
        if user is not None:
            user.failed_attempts = (user.failed_attempts or 0) + 1
            if locked is not None:
                user.locked_until = locked
                user.failed_attempts = 0

    def _failed(self, session: Session, username: str, reason: str, address: str,
                client: str) -> None:
        metrics.LOGINS.labels("failed", reason).inc()
        log.info("login_failed", username=username[:255], reason=reason,
                 address=address, client=client)
        self.outbox.add(session, LoginFailed(
            username=username[:255], reason=reason, client=client,
            address=address or None), actor=Actor(name=username[:255] or "anonymous",
                                                  address=address or None))


def _plausible(username: str, secret: str) -> bool:
    return bool(username and secret) and len(secret) <= MAX_SECRET \
        and len(username) <= 255
