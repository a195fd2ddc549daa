"""Decisions for registry scopes (``POST /internal/v1/authorize``) and their
explanation (``GET /api/v1/authorize/explain``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from berth.catalog import names, policy
from berth.catalog.models import Namespace, Registry
from berth.catalog.policy import Decision, Knobs, NamespaceFacts, Subject
from berth.catalog.services import access
from berth.catalog.services.registries import by_service, global_namespace
from berth.catalog.services.users import Emit, ensure_personal, upsert_user
from berth.common.auth import Principal
from berth.common.errors import BadRequest
from sqlalchemy import select
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Scope:
    """One requested resource and its actions."""

    type: str
    name: str
    actions: tuple[str, ...]
    klass: str | None = None

    def label(self) -> str:
        """The registry's textual form: ``repository:ns/name:pull,push``."""
        return f"{self.type}:{self.name}:{','.join(self.actions)}"


def parse_scope_dict(raw: Any) -> Scope:
    """A scope from the authorize body; 400 when malformed."""
    if not isinstance(raw, dict):
        raise BadRequest("each scope must be an object")
    kind, name, actions = raw.get("type"), raw.get("name"), raw.get("actions")
    klass = raw.get("class")
    if kind not in ("repository", "registry") or not isinstance(name, str) or not name:
        raise BadRequest("scope needs a known type and a name",
                         detail={"scope": str(raw)[:200]})
    # The class (e.g. "plugin") does not change the decision; only its form counts.
    if klass is not None and (not isinstance(klass, str)
                              or not re.fullmatch(r"[a-z0-9]{1,32}", klass)):
        raise BadRequest(f"malformed resource class {klass!r}")
    # An empty list is a scope whose actions the token service already dropped.
    if (not isinstance(actions, list)
            or not all(isinstance(a, str) and a for a in actions)):
        raise BadRequest("scope actions must be a list of strings")
    if kind == "repository" and names.repository_problem(name):
        raise BadRequest(f"invalid repository name {name!r}")
    return Scope(type=kind, name=name, actions=tuple(actions), klass=klass)


def parse_scope_text(text: str) -> Scope:
    """``type[(class)]:name:actions`` (the registry's syntax); 400 when malformed."""
    parts = text.rsplit(":", 1)
    if len(parts) != 2 or ":" not in parts[0]:
        raise BadRequest(f"malformed scope {text!r}")
    head, actions = parts
    kind, name = head.split(":", 1)
    klass = None
    if kind.endswith(")") and "(" in kind:
        kind, klass = kind[:-1].split("(", 1)
    return parse_scope_dict({"type": kind, "class": klass, "name": name,
                             "actions": [a for a in actions.split(",") if a]})


def subject_for(session: Session, principal: Principal,
                registry: Registry | None, emit: Emit | None = None) -> Subject:
    """The policy subject of ``principal``; ensures its mirror row and personal
    namespace first so a brand-new user can push at once."""
    if principal.kind in ("anonymous", "service") or principal.id is None:
        return Subject(kind=principal.kind, user_id=principal.id,
                       username=principal.username,
                       admin=principal.admin and principal.kind != "anonymous")
    user = upsert_user(session, principal.id, principal.username,
                       admin=principal.admin, bot=principal.kind == "bot")
    if registry is not None:
        ensure_personal(session, user, registry, emit)
    return Subject(kind=principal.kind, user_id=user.id, username=user.username,
                   admin=user.admin, enabled=user.enabled)


def namespace_facts(session: Session, registry: Registry, repository: str,
                    subject: Subject) -> NamespaceFacts:
    """Facts of the namespace a repository name falls in."""
    ns_name, _ = names.split_repository(repository)
    ns: Namespace | None
    if ns_name is None:
        ns = global_namespace(session, registry)
    else:
        ns = session.scalar(select(Namespace).where(
            Namespace.registry_id == registry.id, Namespace.name == ns_name))
    if ns is None:
        return access.unknown(ns_name or "")
    return access.facts_for(session, ns, subject)


def decide(session: Session, registry: Registry | None, subject: Subject,
           scope: Scope, knobs: Knobs) -> dict[str, Decision]:
    """action -> decision for one scope."""
    if registry is None:
        return {a: policy.deny("unknown_registry_service") for a in scope.actions}
    if scope.type == "registry":
        return policy.registry_actions(subject, scope.name, scope.actions)
    ns = namespace_facts(session, registry, scope.name, subject)
    return policy.repository_actions(subject, ns, scope.actions, knobs)


def authorize(session: Session, service: str, principal: Principal,
              scopes: list[Scope], knobs: Knobs,
              emit: Emit | None = None) -> list[dict[str, Any]]:
    """Granted actions per scope, in request order (the token's access claim)."""
    registry = by_service(session, service)
    subject = subject_for(session, principal, registry, emit)
    out = []
    for scope in scopes:
        decisions = decide(session, registry, subject, scope, knobs)
        granted = [a for a in scope.actions if decisions[a].allowed]
        out.append({"type": scope.type, "name": scope.name,
                    "actions": list(dict.fromkeys(granted))})
    return out


def explain(session: Session, registry: Registry, subject: Subject, scope: Scope,
            knobs: Knobs) -> dict[str, Any]:
    """Per action: allowed or not, and the rule that decided."""
    decisions = decide(session, registry, subject, scope, knobs)
    return {
        "scope": scope.label(),
        "type": scope.type,
        "name": scope.name,
        "registry": registry.service,
        "actions": [{"action": a, "allowed": d.allowed, "rule": d.rule}
                    for a, d in decisions.items()],
    }
