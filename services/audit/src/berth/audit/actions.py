"""Event type + data -> what the audit log shows: action key, target, scope.

Keys follow Portus' activity keys where Portus had one (``repository.push``,
``namespace.change_visibility``, ``team.add_member``...) and Berth's own
otherwise. Mapping is by type string and reads ``data`` defensively: producers
add fields over time, and an event type unknown here is still recorded, with
its type as the action.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Mapped:
    """How one event appears in the log."""

    action: str
    target_type: str | None = None
    target_id: str | None = None
    target_name: str | None = None
    namespace: str | None = None
    repository: str | None = None
    registry: str | None = None
    # Who acted when the envelope's actor is "system" (e.g. a registry push).
    actor_name: str | None = None
    actor_address: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _text(data: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = data.get(name)
        if value is not None and value != "" and not isinstance(value, dict | list):
            return str(value)
    return None


def namespace_of(repository: str | None) -> str | None:
    """The namespace part of a full repository name; None for the global one."""
    if not repository or "/" not in repository:
        return None
    return repository.split("/", 1)[0]


def _details(data: Mapping[str, Any], *skip: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in skip and v is not None}


# -- identity ---------------------------------------------------------------

def _user(action: str) -> Callable[[Mapping[str, Any]], Mapped]:
    def build(data: Mapping[str, Any]) -> Mapped:
        return Mapped(action, "user", _text(data, "user_id"), _text(data, "username"),
                      details=_details(data, "user_id", "username"))
    return build


def _user_updated(data: Mapping[str, Any]) -> Mapped:
    raw = data.get("changes") or ()
    changes = {str(c) for c in raw} if isinstance(raw, list | tuple) else set()
    if "admin" in changes:
        action = "user.admin_grant" if data.get("admin") else "user.admin_revoke"
    elif "enabled" in changes:
        action = "user.enable" if data.get("enabled", True) else "user.disable"
    else:
        action = "user.update"
    return _user(action)(data)


def _token(action: str) -> Callable[[Mapping[str, Any]], Mapped]:
    def build(data: Mapping[str, Any]) -> Mapped:
        return Mapped(action, "application_token", _text(data, "token_id"),
                      _text(data, "application"),
                      details=_details(data, "token_id", "application"))
    return build


def _login(action: str) -> Callable[[Mapping[str, Any]], Mapped]:
    def build(data: Mapping[str, Any]) -> Mapped:
        # Nobody is logged in yet: the claimed name is the actor of the attempt.
        return Mapped(action, "user", _text(data, "user_id"), _text(data, "username"),
                      actor_name=_text(data, "username"),
                      actor_address=_text(data, "address"),
                      details=_details(data, "user_id", "username", "address"))
    return build


# -- catalog ----------------------------------------------------------------

def _catalog(action: str, target_type: str) -> Callable[[Mapping[str, Any]], Mapped]:
    def build(data: Mapping[str, Any]) -> Mapped:
        repository = _text(data, "repository")
        namespace = _text(data, "namespace") or namespace_of(repository)
        if target_type == "namespace" and namespace is None:
            namespace = _text(data, "name")
        if target_type == "repository" and repository is None:
            repository = _full_name(namespace, _text(data, "name"))
        details = data.get("details")
        extra = _details(data, "entity_id", "name", "namespace", "repository",
                         "registry", "details")
        merged = {**extra, **details} if isinstance(details, dict) else extra
        return Mapped(action, target_type, _text(data, "entity_id", "id"),
                      _text(data, "name"), namespace=namespace, repository=repository,
                      registry=_text(data, "registry"), details=merged)
    return build


def _full_name(namespace: str | None, name: str | None) -> str | None:
    if name is None or "/" in name or namespace is None:
        return name
    return f"{namespace}/{name}"


def _team_updated(data: Mapping[str, Any]) -> Mapped:
    details = data.get("details")
    keys = set(details) if isinstance(details, dict) else set()
    for listed in ("changes", "changed"):
        changes = details.get(listed) if isinstance(details, dict) else None
        if isinstance(changes, list | tuple):
            keys |= {str(c) for c in changes}
    if keys & {"name", "old_name", "new_name"}:
        action = "team.change_team_name"
    elif keys & {"description", "old_description", "new_description"}:
        action = "team.change_team_description"
    else:
        action = "team.update"
    return _catalog(action, "team")(data)


# -- registry (through the syncer) --------------------------------------------

def _manifest(notification: str, reconcile: str) -> Callable[[Mapping[str, Any]], Mapped]:
    def build(data: Mapping[str, Any]) -> Mapped:
        origin = _text(data, "origin") or "notification"
        repository = _text(data, "repository")
        tag = _text(data, "tag")
        return Mapped(
            notification if origin == "notification" else reconcile,
            "repository", None, f"{repository}:{tag}" if repository and tag
            else repository, namespace=namespace_of(repository),
            repository=repository, registry=_text(data, "registry"),
            actor_name=_text(data, "actor"), actor_address=_text(data, "source_addr"),
            details=_details(data, "repository", "registry", "actor", "source_addr"))
    return build


def _sync(data: Mapping[str, Any], verb: str) -> Mapped:
    return Mapped(f"sync.{verb}", "sync_run", _text(data, "run_id"),
                  _text(data, "registry", "name"), registry=_text(data, "registry"),
                  details=_details(data, "run_id", "registry"))


MAPPERS: dict[str, Callable[[Mapping[str, Any]], Mapped]] = {
    "identity.user.created": _user("user.create"),
    "identity.user.updated": _user_updated,
    "identity.user.deleted": _user("user.delete"),
    "identity.application_token.created": _token("application_token.create"),
    "identity.application_token.destroyed": _token("application_token.destroy"),
    "identity.login.succeeded": _login("login.succeeded"),
    "identity.login.failed": _login("login.failed"),
    "catalog.team.created": _catalog("team.create", "team"),
    "catalog.team.updated": _team_updated,
    "catalog.team.deleted": _catalog("team.delete", "team"),
    "catalog.team.member_added": _catalog("team.add_member", "team"),
    "catalog.team.member_removed": _catalog("team.remove_member", "team"),
    "catalog.team.member_role_changed": _catalog("team.change_member_role", "team"),
    "catalog.namespace.created": _catalog("namespace.create", "namespace"),
    "catalog.namespace.visibility_changed":
        _catalog("namespace.change_visibility", "namespace"),
    "catalog.namespace.team_changed": _catalog("namespace.change_team", "namespace"),
    "catalog.namespace.description_changed":
        _catalog("namespace.change_namespace_description", "namespace"),
    "catalog.namespace.deleted": _catalog("namespace.delete", "namespace"),
    "catalog.namespace.renamed": _catalog("namespace.rename", "namespace"),
    "catalog.repository.created": _catalog("repository.create", "repository"),
    "catalog.repository.updated": _catalog("repository.update", "repository"),
    "catalog.repository.deleted": _catalog("repository.delete", "repository"),
    "catalog.tag.pushed": _catalog("tag.push", "tag"),
    "catalog.tag.deleted": _catalog("tag.delete", "tag"),
    "catalog.tag.delete_requested": _catalog("tag.delete_request", "tag"),
    "catalog.star.added": _catalog("repository.star", "repository"),
    "catalog.star.removed": _catalog("repository.unstar", "repository"),
    "catalog.comment.created": _catalog("comment.create", "comment"),
    "catalog.comment.deleted": _catalog("comment.delete", "comment"),
    "catalog.registry.created": _catalog("registry.create", "registry"),
    "catalog.registry.updated": _catalog("registry.update", "registry"),
    "catalog.registry.deleted": _catalog("registry.delete", "registry"),
    "registry.manifest.pushed": _manifest("repository.push", "repository.sync_add"),
    "registry.manifest.pulled": _manifest("repository.pull", "repository.pull"),
    "registry.manifest.deleted":
        _manifest("repository.delete_manifest", "repository.sync_remove"),
    "registry.tag.removed":
        _manifest("repository.sync_remove", "repository.sync_remove"),
}

# Past participles of event verbs -> the imperative of action keys.
VERBS = {"created": "create", "updated": "update", "deleted": "delete",
         "destroyed": "destroy", "enabled": "enable", "disabled": "disable",
         "started": "start", "finished": "finish", "completed": "finish",
         "failed": "fail", "delivered": "deliver", "requested": "request"}


def map_event(event_type: str, data: Mapping[str, Any]) -> Mapped:
    """The action key, target and scope of an event of ``event_type``."""
    mapper = MAPPERS.get(event_type)
    if mapper is not None:
        return mapper(data)
    parts = event_type.split(".")
    if len(parts) == 3 and parts[:2] == ["catalog", "webhook"]:
        verb = VERBS.get(parts[2], parts[2])
        return _catalog(f"webhook.{verb}", "webhook")(data)
    if len(parts) == 3 and parts[:2] == ["sync", "run"]:
        return _sync(data, VERBS.get(parts[2], parts[2]))
    return Mapped(event_type, details=dict(data))
