"""Portus' entities (lib/api/entities.rb field names) plus Berth's extensions."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import markdown
import nh3
from berth.catalog.models import (
    Comment,
    Namespace,
    Registry,
    Repository,
    Tag,
    Team,
    TeamUser,
)
from berth.catalog.policy import Decision, NamespaceFacts

_local = threading.local()


def ts(value: datetime | None) -> str | None:
    """ISO 8601 UTC."""
    return None if value is None else value.isoformat(timespec="seconds") + "Z"


def _converter() -> markdown.Markdown:
    # Building a converter costs more than converting a description (about
    # 1 ms, once per row of a list); one per thread, since converting is
    # stateful.
    converter: markdown.Markdown | None = getattr(_local, "markdown", None)
    if converter is None:
        converter = markdown.Markdown(extensions=["fenced_code", "tables"])
        _local.markdown = converter
    return converter


def render_markdown(text: str | None) -> str:
    """Markdown to HTML with everything unsafe stripped."""
    if not text:
        return ""
    return nh3.clean(_converter().reset().convert(text))


def registry(r: Registry, *, admin: bool = False) -> dict[str, Any]:
    """Registries entity (+ service and url for admins)."""
    out: dict[str, Any] = {
        "id": r.id, "name": r.name, "hostname": r.hostname,
        "external_hostname": r.external_hostname, "use_ssl": r.use_ssl,
        "created_at": ts(r.created_at), "updated_at": ts(r.updated_at)}
    if admin:
        out.update({"service": r.service, "url": r.url})
    return out


def team(t: Team, *, role: str | None = None, updatable: bool = False,
         users_count: int = 0, namespaces_count: int = 0) -> dict[str, Any]:
    """Teams entity."""
    return {
        "id": t.id, "name": t.name, "created_at": ts(t.created_at),
        "updated_at": ts(t.updated_at), "description": t.description,
        "description_md": render_markdown(t.description), "hidden": t.hidden,
        "role": role, "updatable": updatable, "users_count": users_count,
        "namespaces_count": namespaces_count}


def member(m: TeamUser, *, current_user_id: int | None) -> dict[str, Any]:
    """TeamMembers entity."""
    return {
        "id": m.id, "team_id": m.team_id, "user_id": m.user_id,
        "username": m.user.username, "display_name": m.user.username,
        "created_at": ts(m.created_at), "updated_at": ts(m.updated_at),
        "role": m.role, "admin": m.user.admin,
        "current": m.user_id == current_user_id}


def member_user(m: TeamUser, *, namespace_id: int | None) -> dict[str, Any]:
    """Portus lists members with its Users entity; the catalog adds the
    membership (``member_id``, ``role``) a client needs to change it."""
    u = m.user
    return {
        "id": u.id, "username": u.username, "display_name": u.username,
        "created_at": ts(u.created_at), "updated_at": ts(u.updated_at),
        "admin": u.admin, "enabled": u.enabled, "bot": u.bot,
        "namespace_id": namespace_id, "member_id": m.id, "team_id": m.team_id,
        "role": m.role}


def namespace(ns: Namespace, *, facts: NamespaceFacts,
              decisions: dict[str, Decision], repositories_count: int = 0
              ) -> dict[str, Any]:
    """Namespaces entity; ``decisions`` holds pull/push/delete/manage/visibility."""
    return {
        "id": ns.id, "name": ns.name if not ns.is_global else "",
        "created_at": ts(ns.created_at), "updated_at": ts(ns.updated_at),
        "description": ns.description,
        "description_md": render_markdown(ns.description),
        "team": {"id": ns.team.id, "name": ns.team.name, "hidden": ns.team.hidden},
        "repositories_count": repositories_count, "webhooks_count": 0,
        "visibility": "public" if ns.is_global else ns.visibility,
        "global": ns.is_global, "personal": ns.personal,
        "registry_id": ns.registry_id,
        "updatable": decisions["manage"].allowed,
        "permissions": {
            "role": facts.role if ns.kind == "team" else (
                "owner" if decisions["manage"].allowed and ns.personal else None),
            "pull": decisions["pull"].allowed, "push": decisions["push"].allowed,
            "delete": decisions["delete"].allowed,
            "webhooks": decisions["webhooks"].allowed,
            "visibility": decisions["visibility"].allowed}}


def repository(r: Repository, *, stars: int, tags_count: int, starred: bool,
               destroyable: bool | None = None) -> dict[str, Any]:
    """Repositories entity (+ description)."""
    ns = r.namespace
    out: dict[str, Any] = {
        "id": r.id, "name": r.name, "full_name": r.full_name,
        "description": r.description,
        "description_md": render_markdown(r.description),
        "created_at": ts(r.created_at), "updated_at": ts(r.updated_at),
        "namespace": {"id": ns.id, "name": ns.name if not ns.is_global else ""},
        "registry_hostname": ns.registry_ref.reachable_hostname,
        # The registry's token service: what events and internal calls name it by.
        "registry_service": ns.registry_ref.service,
        "stars": stars, "tags_count": tags_count, "starred": starred}
    if destroyable is not None:
        out["destroyable"] = destroyable
    return out


def tag(t: Tag, *, shared_with: list[str] | None = None) -> dict[str, Any]:
    """Tags entity (+ media type, size, push/pull times, digest siblings)."""
    return {
        "id": t.id, "name": t.name, "repository_id": t.repository_id,
        "author": {"id": t.author_id, "name": t.author_name},
        "digest": t.digest, "image_id": "", "media_type": t.media_type,
        "size": t.size, "created_at": ts(t.created_at),
        "updated_at": ts(t.updated_at), "pushed_at": ts(t.pushed_at),
        "pulled_at": ts(t.pulled_at), "scanned": 0, "vulnerabilities": None,
        # Deleting this tag deletes its manifest, and so these tags too.
        "digest_shared_with": shared_with or []}


def comment(c: Comment, *, destroyable: bool) -> dict[str, Any]:
    """Comments entity."""
    return {
        "id": c.id, "repository_id": c.repository_id,
        "created_at": ts(c.created_at), "updated_at": ts(c.updated_at),
        "body": c.body, "body_md": render_markdown(c.body),
        "author": {"id": c.author_id, "username": c.author_name},
        "destroyable": destroyable}
