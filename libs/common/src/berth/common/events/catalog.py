"""Events produced by the catalog. Each carries the ids and names the audit log
shows; the actor travels in the envelope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from berth.common.events.base import Event


@dataclass(frozen=True)
class CatalogChange(Event):
    """Generic shape shared by catalog events: an entity and what changed."""

    entity_id: int
    name: str
    namespace: str | None = None
    repository: str | None = None
    registry: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _event(type_: str, doc: str) -> type[CatalogChange]:
    cls = type(type_.replace(".", "_"), (CatalogChange,),
               {"TYPE": type_, "VERSION": 1, "__doc__": doc,
                "__annotations__": {}})
    return dataclass(frozen=True)(cls)


TeamCreated = _event("catalog.team.created", "A team was created.")
TeamUpdated = _event("catalog.team.updated", "A team's name or description changed.")
TeamDeleted = _event("catalog.team.deleted", "A team was deleted.")
TeamMemberAdded = _event("catalog.team.member_added", "A user joined a team.")
TeamMemberRemoved = _event("catalog.team.member_removed", "A user left a team.")
TeamMemberRoleChanged = _event("catalog.team.member_role_changed",
                               "A member's role changed.")
NamespaceCreated = _event("catalog.namespace.created", "A namespace was created.")
NamespaceVisibilityChanged = _event("catalog.namespace.visibility_changed",
                                    "A namespace's visibility changed.")
NamespaceTeamChanged = _event("catalog.namespace.team_changed",
                              "A namespace moved to another team.")
NamespaceDescriptionChanged = _event("catalog.namespace.description_changed",
                                     "A namespace's description changed.")
NamespaceRenamed = _event("catalog.namespace.renamed", "An empty namespace was renamed.")
NamespaceDeleted = _event("catalog.namespace.deleted", "A namespace was deleted.")
RepositoryCreated = _event("catalog.repository.created", "A repository appeared.")
RepositoryUpdated = _event("catalog.repository.updated",
                           "A repository's description changed.")
RepositoryDeleted = _event("catalog.repository.deleted", "A repository was deleted.")
TagPushed = _event("catalog.tag.pushed", "A tag was created or moved by a push.")
TagDeleted = _event("catalog.tag.deleted", "A tag was deleted.")
TagDeleteRequested = _event("catalog.tag.delete_requested",
                            "Deleting a manifest in the registry was requested.")
StarAdded = _event("catalog.star.added", "A user starred a repository.")
StarRemoved = _event("catalog.star.removed", "A user unstarred a repository.")
CommentCreated = _event("catalog.comment.created", "A comment was posted.")
CommentDeleted = _event("catalog.comment.deleted", "A comment was deleted.")
RegistryCreated = _event("catalog.registry.created", "A registry was added.")
RegistryUpdated = _event("catalog.registry.updated", "A registry was changed.")
RegistryDeleted = _event("catalog.registry.deleted", "A registry was removed.")
WebhookCreated = _event("catalog.webhook.created", "A webhook was added to a namespace.")
WebhookUpdated = _event("catalog.webhook.updated",
                        "A webhook's settings or headers changed.")
WebhookDestroyed = _event("catalog.webhook.destroyed", "A webhook was removed.")
WebhookEnabled = _event("catalog.webhook.enabled", "A webhook was enabled.")
WebhookDisabled = _event("catalog.webhook.disabled", "A webhook was disabled.")
