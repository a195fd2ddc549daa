"""Events produced by the token service (users, credentials, logins)."""

from __future__ import annotations

from dataclasses import dataclass

from berth.common.events.base import Event


@dataclass(frozen=True)
class _User(Event):
    user_id: int
    username: str


@dataclass(frozen=True)
class UserCreated(_User):
    """A user exists (sign-up, admin, bootstrap, bot, first LDAP login)."""

    TYPE = "identity.user.created"
    VERSION = 1
    email: str | None = None
    admin: bool = False
    bot: bool = False
    enabled: bool = True
    source: str = "database"  # or "ldap"
    display_name: str | None = None


@dataclass(frozen=True)
class UserUpdated(_User):
    """A user's flags or profile changed (``changes`` names what)."""

    TYPE = "identity.user.updated"
    VERSION = 1
    admin: bool = False
    enabled: bool = True
    changes: tuple[str, ...] | list[str] = ()
    bot: bool | None = None            # None: sent by an older producer
    email: str | None = None
    display_name: str | None = None


@dataclass(frozen=True)
class UserDeleted(_User):
    """A user was deleted."""

    TYPE = "identity.user.deleted"
    VERSION = 1


@dataclass(frozen=True)
class ApplicationTokenCreated(_User):
    """An application token was created for a user."""

    TYPE = "identity.application_token.created"
    VERSION = 1
    token_id: int = 0
    application: str = ""


@dataclass(frozen=True)
class ApplicationTokenDestroyed(_User):
    """An application token was revoked."""

    TYPE = "identity.application_token.destroyed"
    VERSION = 1
    token_id: int = 0
    application: str = ""


@dataclass(frozen=True)
class LoginSucceeded(Event):
    """Someone authenticated (web UI, API or registry token with credentials)."""

    TYPE = "identity.login.succeeded"
    VERSION = 1
    username: str
    user_id: int | None = None
    method: str = "password"   # password, application_token, ldap, refresh_token
    client: str = "api"        # api, registry, webui
    address: str | None = None


@dataclass(frozen=True)
class LoginFailed(Event):
    """An authentication attempt failed; ``reason`` says why."""

    TYPE = "identity.login.failed"
    VERSION = 1
    username: str
    reason: str                # bad_credentials, disabled, locked, throttled, ...
    client: str = "api"
    address: str | None = None
