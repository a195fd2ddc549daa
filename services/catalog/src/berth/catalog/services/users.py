"""The mirror of the token service's users, and their personal namespaces.

Rows come from ``identity.user.*`` events and from principals seen in
requests, whichever arrives first, so a new user can push at once.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from berth.catalog import names
from berth.catalog.models import Comment, Namespace, Registry, Team, User
from berth.catalog.services.context import insert_or_get
from berth.catalog.services.registries import list_registries
from berth.common.events import catalog as ev
from berth.common.events.base import Event

Emit = Callable[[Event], None]
from sqlalchemy import select, update
from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)


def upsert_user(session: Session, user_id: int, username: str, *,
                admin: bool | None = None, enabled: bool | None = None,
                bot: bool | None = None) -> User:
    """Create or refresh the mirror row of ``user_id``."""
    # The token service keeps usernames unique; a different id holding this
    # name is a user deleted there whose deletion we never saw.
    stale = session.scalar(select(User).where(User.username == username,
                                              User.id != user_id))
    if stale is not None:
        remove_user(session, stale.id)
    user = session.get(User, user_id)
    if user is None:
        user = insert_or_get(
            session, User(id=user_id, username=username, admin=bool(admin),
                          enabled=True if enabled is None else enabled,
                          bot=bool(bot)),
            lambda: session.get(User, user_id))
    if user.username != username:
        user.username = username
    if admin is not None and user.admin != admin:
        user.admin = admin
    if enabled is not None and user.enabled != enabled:
        user.enabled = enabled
    if bot is not None and user.bot != bot:
        user.bot = bot
    session.flush()
    return user


def personal_namespace(session: Session, user_id: int,
                       registry: Registry) -> Namespace | None:
    """The personal namespace of ``user_id`` in ``registry``."""
    return session.scalar(select(Namespace).where(
        Namespace.registry_id == registry.id, Namespace.personal.is_(True),
        Namespace.owner_user_id == user_id))


def ensure_personal(session: Session, user: User, registry: Registry,
                    emit: Emit | None = None) -> Namespace:
    """The user's private personal namespace in ``registry``, created if missing."""
    found = personal_namespace(session, user.id, registry)
    if found is not None:
        return found
    team_name = names.personal_team_name(user.id)

    def find_team() -> Team | None:
        return session.scalar(select(Team).where(Team.name == team_name))

    team = find_team() or insert_or_get(
        session, Team(name=team_name, hidden=True,
                      description=f"personal team of {user.username}"), find_team)
    base = names.personal_namespace_name(user.username)
    candidate = base
    for attempt in range(1, 6):
        taken = session.scalar(select(Namespace.id).where(
            Namespace.registry_id == registry.id, Namespace.name == candidate))
        if taken is None:
            ns = Namespace(registry_id=registry.id, name=candidate, team_id=team.id,
                           visibility="private", personal=True,
                           owner_user_id=user.id,
                           description=f"personal namespace of {user.username}")
            created = insert_or_get(
                session, ns, lambda: personal_namespace(session, user.id, registry))
            if created.owner_user_id == user.id:
                log.info("personal_namespace_created", user_id=user.id,
                         namespace=created.name)
                if emit is not None and created is ns:
                    emit(ev.NamespaceCreated(
                        entity_id=ns.id, name=ns.name, namespace=ns.name,
                        registry=registry.service,
                        details={"personal": True, "owner": user.username}))
                return created
        candidate = f"{base}-{user.id}" if attempt == 1 else f"{base}-{user.id}-{attempt}"
    raise RuntimeError(f"no free personal namespace name for {user.username}")


def ensure_user_everywhere(session: Session, user: User,
                           emit: Emit | None = None) -> None:
    """Make sure ``user`` has a personal namespace in every registry."""
    for registry in list_registries(session):
        ensure_personal(session, user, registry, emit)


def remove_user(session: Session, user_id: int) -> bool:
    """Forget a user; their personal namespace stays, owned by nobody (admins)."""
    user = session.get(User, user_id)
    if user is None:
        return False
    session.execute(update(Comment).where(Comment.author_id == user_id)
                    .values(author_id=None))
    session.execute(update(Namespace).where(Namespace.owner_user_id == user_id)
                    .values(owner_user_id=None))
    session.delete(user)
    session.flush()
    return True
