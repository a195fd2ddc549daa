"""What a user may see, as ids the audit service filters its records by:
the namespaces they may pull from (the policy's pull rule) and the teams they
belong to."""

from __future__ import annotations

from dataclasses import dataclass

from berth.catalog.models import Namespace, Registry, Team, TeamUser, User
from berth.catalog.policy import Knobs, Subject
from berth.catalog.services.access import visible_namespaces
from sqlalchemy import select
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Visible:
    """One user's view: namespaces (id, name, registry service, global) and teams."""

    user_id: int
    admin: bool
    namespaces: list[tuple[int, str, str, bool]]
    teams: list[tuple[int, str]]


def visible_to_user(session: Session, user_id: int, knobs: Knobs) -> Visible | None:
    """What ``user_id`` may see; None when the catalog does not know the user."""
    user = session.get(User, user_id)
    if user is None:
        return None
    subject = Subject(kind="bot" if user.bot else "user", user_id=user.id,
                      username=user.username, admin=user.admin, enabled=user.enabled)
    rows = session.execute(
        select(Namespace.id, Namespace.name, Registry.service, Namespace.is_global)
        .join(Registry, Registry.id == Namespace.registry_id)
        .where(visible_namespaces(session, subject, knobs))
        .order_by(Namespace.id))
    member = select(TeamUser.team_id).where(TeamUser.user_id == user.id)
    teams = session.execute(
        select(Team.id, Team.name)
        .where(Team.hidden.is_(False), Team.id.in_(member)).order_by(Team.id))
    return Visible(user_id=user.id, admin=user.admin and user.enabled,
                   namespaces=[(i, n, s, bool(g)) for i, n, s, g in rows],
                   teams=[(i, n) for i, n in teams])
