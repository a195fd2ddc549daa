"""The catalog's tables (SQLAlchemy 2 typed models)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from berth.common.db import make_base
from berth.common.outbox import bus_tables
from sqlalchemy import (
    BigInteger,
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
ROLES = ("viewer", "contributor", "owner")


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
    __table_args__ = (UniqueConstraint("namespace_id", "name"),)

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
