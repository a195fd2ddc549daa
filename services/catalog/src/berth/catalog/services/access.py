"""Facts the policy needs, gathered with few queries, and the SQL filter that
makes lists agree with :func:`berth.catalog.policy.can_pull`."""

from __future__ import annotations

from collections.abc import Iterable

from berth.catalog.models import Namespace, TeamUser
from berth.catalog.policy import Knobs, NamespaceFacts, Subject
from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session


def roles_of(session: Session, user_id: int | None,
             team_ids: Iterable[int] | None = None) -> dict[int, str]:
    """team id -> role of ``user_id`` (optionally only in ``team_ids``)."""
    if user_id is None:
        return {}
    query = select(TeamUser.team_id, TeamUser.role).where(TeamUser.user_id == user_id)
    if team_ids is not None:
        ids = list(set(team_ids))
        if not ids:
            return {}
        query = query.where(TeamUser.team_id.in_(ids))
    return {team_id: role for team_id, role in session.execute(query)}


def facts(ns: Namespace, role: str | None) -> NamespaceFacts:
    """The policy's view of an existing namespace."""
    return NamespaceFacts(name=ns.name, exists=True, kind=ns.kind,
                          visibility=ns.visibility, owner_user_id=ns.owner_user_id,
                          role=role)


def facts_for(session: Session, ns: Namespace, subject: Subject) -> NamespaceFacts:
    """Facts of ``ns`` for ``subject`` (one query for the role)."""
    role = roles_of(session, subject.user_id, [ns.team_id]).get(ns.team_id)
    return facts(ns, role)


def unknown(name: str) -> NamespaceFacts:
    """Facts of a namespace that does not exist (yet)."""
    return NamespaceFacts(name=name, exists=False)


def sees_every_namespace(subject: Subject) -> bool:
    """Whether ``subject`` may pull from every namespace (admins, the service)."""
    return subject.kind == "service" or (subject.admin and subject.enabled
                                         and not subject.anonymous)


def visible_namespaces(session: Session, subject: Subject,
                       knobs: Knobs) -> ColumnElement[bool]:
    """A WHERE clause: namespaces ``subject`` may see (the pull rule, in SQL)."""
    if sees_every_namespace(subject):
        return true()
    if subject.anonymous:
        if not knobs.anonymous_browsing:
            return false()
        return or_(Namespace.is_global.is_(True), Namespace.visibility == "public")
    if not subject.enabled:
        return false()
    member_teams = select(TeamUser.team_id).where(TeamUser.user_id == subject.user_id)
    return or_(
        Namespace.is_global.is_(True),
        Namespace.visibility.in_(("public", "protected")),
        (Namespace.personal.is_(False) & Namespace.is_global.is_(False)
         & Namespace.team_id.in_(member_teams)),
        (Namespace.personal.is_(True) & (Namespace.owner_user_id == subject.user_id)),
    )
