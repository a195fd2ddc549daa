"""The authorization rules (DESIGN.md "Authorization"): pure functions, no I/O.

Every decision is a :class:`Decision` carrying the rule that made it, so the
explain endpoint can show exactly why something was allowed or refused.
Callers gather the facts (who, which namespace, which role) and pass them in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

REPOSITORY_ACTIONS = ("pull", "push", "delete")
ROLE_RANK = {"viewer": 1, "contributor": 2, "owner": 3}


@dataclass(frozen=True)
class Knobs:
    """Portus' configuration switches that change the policy."""

    delete_enabled: bool = True
    delete_contributors: bool = False
    push_policy: str = "allow-teams"
    anonymous_browsing: bool = True
    create_team: bool = True
    manage_team: bool = True
    create_namespace: bool = True
    manage_namespace: bool = True
    change_visibility: bool = True
    create_webhook: bool = True
    manage_webhook: bool = True


@dataclass(frozen=True)
class Subject:
    """Who asks: a user, a bot, Berth's service principal, or anonymous."""

    kind: str = "anonymous"
    user_id: int | None = None
    username: str = ""
    admin: bool = False
    enabled: bool = True

    @property
    def anonymous(self) -> bool:
        """Nobody authenticated."""
        return self.kind == "anonymous"


@dataclass(frozen=True)
class NamespaceFacts:
    """What the policy needs to know about a namespace and the subject in it.

    ``role`` is the subject's role in the owning team (None if not a member);
    ``exists`` is False for a namespace that is not in the catalog yet.
    """

    name: str
    exists: bool = True
    kind: str = "team"              # team, personal, global
    visibility: str = "private"     # private, protected, public
    owner_user_id: int | None = None
    role: str | None = None


@dataclass(frozen=True)
class Decision:
    """An answer and the rule that gave it."""

    allowed: bool
    rule: str

    def __bool__(self) -> bool:
        return self.allowed


def allow(rule: str) -> Decision:
    """A grant by ``rule``."""
    return Decision(True, rule)


def deny(rule: str) -> Decision:
    """A refusal by ``rule``."""
    return Decision(False, rule)


def _gate(subject: Subject) -> Decision | None:
    """Decisions that do not depend on the resource."""
    if subject.kind == "service":
        return allow("service_principal")
    if not subject.anonymous and not subject.enabled:
        return deny("user_disabled")
    if subject.admin and not subject.anonymous:
        return allow("admin")
    return None


def effective_role(subject: Subject, ns: NamespaceFacts) -> str | None:
    """The subject's role in ``ns``; the owner of a personal namespace owns it."""
    if subject.anonymous:
        return None
    if ns.kind == "personal":
        if ns.owner_user_id is not None and ns.owner_user_id == subject.user_id:
            return "owner"
        return None
    if ns.kind == "global":
        return None  # the global team has no members; only admins act there
    return ns.role


def can_pull(subject: Subject, ns: NamespaceFacts, knobs: Knobs) -> Decision:
    """May ``subject`` pull (and see) repositories of ``ns``?"""
    gate = _gate(subject)
    if gate is not None:
        return gate
    if not ns.exists:
        return deny("namespace_unknown")
    if subject.anonymous:
        if not knobs.anonymous_browsing:
            return deny("anonymous_browsing_disabled")
        if _visibility(ns) == "public":
            return allow("public_namespace")
        return deny("login_required")
    if _visibility(ns) == "public":
        return allow("public_namespace")
    if _visibility(ns) == "protected":
        return allow("protected_namespace_logged_in")
    role = effective_role(subject, ns)
    if role is not None:
        return allow("personal_namespace_owner" if ns.kind == "personal"
                     else f"team_{role}")
    return deny("private_namespace_not_member")


def can_push(subject: Subject, ns: NamespaceFacts, knobs: Knobs) -> Decision:
    """May ``subject`` push into ``ns``?"""
    gate = _gate(subject)
    if gate is not None:
        # An admin pushing into an unknown namespace creates it (owned by the
        # global team) when the push event arrives.
        if gate.allowed and not ns.exists and subject.kind != "service":
            return allow("admin_creates_namespace")
        return gate
    if subject.anonymous:
        return deny("login_required")
    if not ns.exists:
        return deny("namespace_unknown_only_admins_create")
    if ns.kind == "global":
        return deny("global_namespace_admins_only")
    if knobs.push_policy == "admin-only":
        return deny("push_policy_admin_only")
    role = effective_role(subject, ns)
    if ns.kind == "personal":
        if role == "owner":
            return allow("personal_namespace_owner")
        return deny("personal_namespace_of_another_user")
    if knobs.push_policy == "allow-personal":
        return deny("push_policy_allow_personal")
    if role in ("contributor", "owner"):
        return allow(f"team_{role}")
    if role == "viewer":
        return deny("team_viewer_cannot_push")
    return deny("not_a_team_member")


def can_delete(subject: Subject, ns: NamespaceFacts, knobs: Knobs) -> Decision:
    """May ``subject`` delete images (tags, manifests, repositories) in ``ns``?"""
    if subject.kind != "service" and not knobs.delete_enabled:
        return deny("delete_disabled")
    gate = _gate(subject)
    if gate is not None:
        return gate
    if subject.anonymous:
        return deny("login_required")
    if not ns.exists:
        return deny("namespace_unknown")
    if ns.kind == "global":
        return deny("global_namespace_admins_only")
    role = effective_role(subject, ns)
    if role == "owner":
        return allow("personal_namespace_owner" if ns.kind == "personal"
                     else "team_owner")
    if role == "contributor":
        if knobs.delete_contributors:
            return allow("team_contributor_delete_enabled")
        return deny("contributors_cannot_delete")
    if role == "viewer":
        return deny("team_viewer_cannot_delete")
    return deny("not_a_team_member")


_CHECKS = {"pull": can_pull, "push": can_push, "delete": can_delete}


def repository_actions(subject: Subject, ns: NamespaceFacts, actions: Iterable[str],
                       knobs: Knobs) -> dict[str, Decision]:
    """Decide each requested action on its own; ``*`` needs every action granted."""
    out: dict[str, Decision] = {}
    for action in actions:
        if action in out:
            continue
        check = _CHECKS.get(action)
        if check is not None:
            out[action] = check(subject, ns, knobs)
        elif action == "*":
            parts = [_CHECKS[a](subject, ns, knobs) for a in REPOSITORY_ACTIONS]
            refused = [d for d in parts if not d.allowed]
            out[action] = (deny(refused[0].rule) if refused
                           else allow("every_action_granted"))
        else:
            out[action] = deny("unknown_action")
    return out


def registry_catalog(subject: Subject) -> Decision:
    """``registry:catalog:*``: only admins and Berth's own service principal."""
    if subject.kind == "service":
        return allow("service_principal")
    if subject.anonymous:
        return deny("login_required")
    if not subject.enabled:
        return deny("user_disabled")
    if subject.admin:
        return allow("admin")
    return deny("catalog_admins_only")


def registry_actions(subject: Subject, name: str,
                     actions: Iterable[str]) -> dict[str, Decision]:
    """Actions on a ``registry`` resource; only ``catalog:*`` exists."""
    out = {}
    for action in actions:
        if name == "catalog" and action == "*":
            out[action] = registry_catalog(subject)
        else:
            out[action] = deny("unknown_registry_resource")
    return out


# -- management (the API, not the registry) ----------------------------------

def _user_gate(subject: Subject) -> Decision | None:
    if subject.anonymous:
        return deny("login_required")
    return _gate(subject)


def can_create_team(subject: Subject, knobs: Knobs) -> Decision:
    """May ``subject`` create a team?"""
    gate = _user_gate(subject)
    if gate is not None:
        return gate
    if subject.kind == "bot":
        return deny("bots_cannot_manage")
    return (allow("user_permission_create_team") if knobs.create_team
            else deny("create_team_admins_only"))


def can_view_team(subject: Subject, role: str | None, hidden: bool) -> Decision:
    """May ``subject`` see a team? Members see theirs; hidden teams only admins."""
    gate = _user_gate(subject)
    if gate is not None:
        return gate
    if hidden:
        return deny("hidden_team")
    return allow(f"team_{role}") if role else deny("not_a_team_member")


def can_manage_team(subject: Subject, role: str | None, hidden: bool,
                    knobs: Knobs) -> Decision:
    """May ``subject`` rename a team or change its members?"""
    if hidden:
        return deny("hidden_team")
    gate = _user_gate(subject)
    if gate is not None:
        return gate
    if role != "owner":
        return deny("team_owners_only")
    return (allow("team_owner") if knobs.manage_team
            else deny("manage_team_admins_only"))


def can_create_namespace(subject: Subject, role: str | None, hidden: bool,
                         knobs: Knobs) -> Decision:
    """May ``subject`` create a namespace owned by a team where it has ``role``?"""
    gate = _user_gate(subject)
    if gate is not None:
        return gate
    if hidden:
        return deny("hidden_team")
    if not knobs.create_namespace:
        return deny("create_namespace_admins_only")
    if role in ("contributor", "owner"):
        return allow(f"team_{role}")
    return deny("team_contributors_only")


def can_manage_namespace(subject: Subject, ns: NamespaceFacts,
                         knobs: Knobs) -> Decision:
    """May ``subject`` change a namespace's description or owning team?"""
    gate = _user_gate(subject)
    if gate is not None:
        return gate
    if ns.kind == "global":
        return deny("global_namespace_admins_only")
    if effective_role(subject, ns) != "owner":
        return deny("namespace_owners_only")
    return (allow("namespace_owner") if knobs.manage_namespace
            else deny("manage_namespace_admins_only"))


def can_change_visibility(subject: Subject, ns: NamespaceFacts, visibility: str,
                          knobs: Knobs) -> Decision:
    """May ``subject`` set ``ns``'s visibility to ``visibility``?"""
    if ns.kind == "global" and visibility == "private":
        return deny("global_namespace_never_private")
    gate = _user_gate(subject)
    if gate is not None:
        return gate
    if ns.kind == "global":
        return deny("global_namespace_admins_only")
    if effective_role(subject, ns) != "owner":
        return deny("namespace_owners_only")
    return (allow("namespace_owner") if knobs.change_visibility
            else deny("change_visibility_admins_only"))


def can_delete_namespace(subject: Subject, ns: NamespaceFacts,
                         knobs: Knobs) -> Decision:
    """Personal and global namespaces are never deleted; others by managers."""
    if ns.kind == "personal":
        return deny("personal_namespace_cannot_be_deleted")
    if ns.kind == "global":
        return deny("global_namespace_cannot_be_deleted")
    if not knobs.delete_enabled and not subject.admin:
        return deny("delete_disabled")
    return can_manage_namespace(subject, ns, knobs)


def can_manage_webhooks(subject: Subject, ns: NamespaceFacts, knobs: Knobs,
                        *, create: bool) -> Decision:
    """May ``subject`` create (or manage) webhooks of ``ns``?"""
    gate = _user_gate(subject)
    if gate is not None:
        return gate
    if effective_role(subject, ns) != "owner":
        return deny("namespace_owners_only")
    knob = knobs.create_webhook if create else knobs.manage_webhook
    return allow("namespace_owner") if knob else deny("webhooks_admins_only")


def can_delete_comment(subject: Subject, author_id: int | None) -> Decision:
    """Comments are deleted by their author or an admin."""
    gate = _user_gate(subject)
    if gate is not None:
        return gate
    if author_id is not None and author_id == subject.user_id:
        return allow("comment_author")
    return deny("comment_author_only")


def _visibility(ns: NamespaceFacts) -> str:
    # The global namespace is public whatever the row says (never private).
    return "public" if ns.kind == "global" else ns.visibility
