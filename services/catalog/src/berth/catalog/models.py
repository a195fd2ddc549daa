"""The catalog's tables (SQLAlchemy 2 typed models)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from berth.common.db import make_base
from berth.common.outbox import bus_tables
from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

if TYPE_CHECKING:  # make_base() builds the class at run time
    from sqlalchemy.orm import DeclarativeBase as Base
else:
    Base = make_base()
OUTBOX, PROCESSED = bus_tables(Base.metadata)

VISIBILITIES = ("private", "protected", "public")
REQUEST_METHODS = ("GET", "POST")
CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded")
WEBHOOK_EVENTS = ("push", "delete", "pull")
ROLES = ("viewer", "contributor", "owner")
# Longer queries find their candidates by their first SUFFIX_LENGTH characters.
SUFFIX_LENGTH = 64


def utcnow() -> datetime:
    """Naive UTC now (every timestamp column stores naive UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Registry(Timestamps, Base):
    __tablename__ = "registries"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    hostname: Mapped[str] = mapped_column(String(255), unique=True)
    service: Mapped[str] = mapped_column(String(255), unique=True)
    url: Mapped[str] = mapped_column(String(512))
    use_ssl: Mapped[bool] = mapped_column(default=False)
    notification_secret: Mapped[str] = mapped_column(String(255), default="")
    external_hostname: Mapped[str | None] = mapped_column(String(255))

    @property
    def reachable_hostname(self) -> str:
        """The host users pull from (the external one when behind a proxy)."""
        return self.external_hostname or self.hostname


class User(Timestamps, Base):
    """Mirror of the token service's users (id is the token service's id)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    username: Mapped[str] = mapped_column(String(255), unique=True)
    admin: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)
    bot: Mapped[bool] = mapped_column(default=False)


class Team(Timestamps, Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Personal and global teams are an implementation detail users never see.
    hidden: Mapped[bool] = mapped_column(default=False)

    members: Mapped[list[TeamUser]] = relationship(
        back_populates="team", cascade="all, delete-orphan", passive_deletes=True)


class TeamUser(Timestamps, Base):
    __tablename__ = "team_users"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    role: Mapped[str] = mapped_column(String(16))

    team: Mapped[Team] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class Namespace(Timestamps, Base):
    __tablename__ = "namespaces"
    __table_args__ = (UniqueConstraint("registry_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registry_id: Mapped[int] = mapped_column(
        ForeignKey("registries.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    visibility: Mapped[str] = mapped_column(String(16), default="private")
    description: Mapped[str] = mapped_column(Text, default="")
    is_global: Mapped[bool] = mapped_column(default=False)
    personal: Mapped[bool] = mapped_column(default=False)
    owner_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # Kept by services.repository_count where repositories come and go:
    # counting 100,000 repositories for a list's total takes longer than the
    # list itself.
    repositories_count: Mapped[int] = mapped_column(default=0, server_default="0")

    registry_ref: Mapped[Registry] = relationship()
    team: Mapped[Team] = relationship()

    @property
    def kind(self) -> str:
        """global, personal or team."""
        if self.is_global:
            return "global"
        return "personal" if self.personal else "team"


class Repository(Timestamps, Base):
    __tablename__ = "repositories"
    # Lists are sorted by name by default: the name index serves a page
    # without sorting every repository.
    __table_args__ = (UniqueConstraint("namespace_id", "name"),
                      Index("ix_repositories_name", "name"))

    id: Mapped[int] = mapped_column(primary_key=True)
    namespace_id: Mapped[int] = mapped_column(
        ForeignKey("namespaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")

    namespace: Mapped[Namespace] = relationship()

    @property
    def full_name(self) -> str:
        """``namespace/name``, or ``name`` in the global namespace."""
        ns = self.namespace
        return self.name if ns.is_global else f"{ns.name}/{self.name}"


class RepositoryNameSuffix(Base):
    """Every suffix of a repository's name (its first SUFFIX_LENGTH characters).

    A substring of the name is a prefix of one of its suffixes, so search
    finds names containing a query with an index range instead of a scan.
    """

    __tablename__ = "repository_name_suffixes"
    __table_args__ = (Index("ix_repository_name_suffixes_repository_id",
                            "repository_id"),)

    suffix: Mapped[str] = mapped_column(String(SUFFIX_LENGTH), primary_key=True)
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True)


class Tag(Timestamps, Base):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("repository_id", "name"),
                      Index("ix_tags_repository_id_digest", "repository_id", "digest"))

    id: Mapped[int] = mapped_column(primary_key=True)
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    digest: Mapped[str] = mapped_column(String(128))
    media_type: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int | None] = mapped_column(BigInteger)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    author_name: Mapped[str | None] = mapped_column(String(255))
    pushed_at: Mapped[datetime] = mapped_column(default=utcnow)
    pulled_at: Mapped[datetime | None] = mapped_column()

    repository: Mapped[Repository] = relationship()


class Star(Base):
    __tablename__ = "stars"
    __table_args__ = (UniqueConstraint("repository_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Comment(Timestamps, Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    author_name: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)


class Webhook(Timestamps, Base):
    """A namespace's callback (Portus' fields, plus events and a signing secret)."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    namespace_id: Mapped[int] = mapped_column(
        ForeignKey("namespaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(String(2048))
    request_method: Mapped[str] = mapped_column(String(8), default="POST")
    content_type: Mapped[str] = mapped_column(String(64), default="application/json")
    username: Mapped[str | None] = mapped_column(String(255))
    # Fernet tokens: the password and the HMAC secret are needed in clear to
    # deliver, so they are encrypted rather than hashed.
    password_encrypted: Mapped[str | None] = mapped_column(Text)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    events: Mapped[str] = mapped_column(String(64), default="push,delete")
    enabled: Mapped[bool] = mapped_column(default=True)

    namespace: Mapped[Namespace] = relationship()
    headers: Mapped[list[WebhookHeader]] = relationship(
        back_populates="webhook", cascade="all, delete-orphan", passive_deletes=True,
        order_by="WebhookHeader.id")

    @property
    def event_list(self) -> list[str]:
        """The events this webhook fires on."""
        return [e for e in self.events.split(",") if e]


class WebhookHeader(Timestamps, Base):
    __tablename__ = "webhook_headers"
    __table_args__ = (UniqueConstraint("webhook_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(1024))

    webhook: Mapped[Webhook] = relationship(back_populates="headers")


class WebhookDelivery(Timestamps, Base):
    """One event to deliver to one webhook; the worker picks rows by due time."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("webhook_id", "event_id"),
                      Index("ix_webhook_deliveries_state_next_attempt_at",
                            "state", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    # The bus event id, or "<uuid>" for a re-send: keeps a redelivered event
    # from being delivered twice.
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(128))
    resent_from_id: Mapped[int | None] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[int | None] = mapped_column()
    duration_ms: Mapped[int | None] = mapped_column()
    request_header: Mapped[str] = mapped_column(Text, default="")
    request_body: Mapped[str] = mapped_column(Text)
    response_header: Mapped[str] = mapped_column(Text, default="")
    response_body: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(String(512))

    webhook: Mapped[Webhook] = relationship()
    attempt_log: Mapped[list[WebhookAttempt]] = relationship(
        back_populates="delivery", cascade="all, delete-orphan", passive_deletes=True,
        order_by="WebhookAttempt.number")


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery, as sent and as answered (truncated)."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[int] = mapped_column(default=0)
    status: Mapped[int | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(String(512))
    request_header: Mapped[str] = mapped_column(Text, default="")
    response_header: Mapped[str] = mapped_column(Text, default="")
    response_body: Mapped[str] = mapped_column(Text, default="")

    delivery: Mapped[WebhookDelivery] = relationship(back_populates="attempt_log")
