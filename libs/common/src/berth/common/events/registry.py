"""Events produced by the syncer from the registry (notifications and reconcile)."""

from __future__ import annotations

from dataclasses import dataclass

from berth.common.events.base import Event


@dataclass(frozen=True)
class _Manifest(Event):
    registry: str            # the registry's service name (e.g. "127.0.0.1:8080")
    repository: str          # full name, "namespace/name" or "name" (global)
    digest: str
    tag: str | None = None
    media_type: str | None = None
    size: int | None = None
    actor: str | None = None          # registry-side user name from the token sub
    source_addr: str | None = None    # client address as the registry saw it
    origin: str = "notification"      # "notification" or "reconcile"


@dataclass(frozen=True)
class ManifestPushed(_Manifest):
    """A manifest was pushed (with its tag when pushed by tag)."""

    TYPE = "registry.manifest.pushed"
    VERSION = 1


@dataclass(frozen=True)
class ManifestPulled(_Manifest):
    """A manifest was pulled."""

    TYPE = "registry.manifest.pulled"
    VERSION = 1


@dataclass(frozen=True)
class ManifestDeleted(_Manifest):
    """A manifest (and so every tag pointing at it) was deleted."""

    TYPE = "registry.manifest.deleted"
    VERSION = 1


@dataclass(frozen=True)
class TagRemoved(Event):
    """Reconcile found a tag gone from the registry (no digest-level delete seen)."""

    TYPE = "registry.tag.removed"
    VERSION = 1
    registry: str
    repository: str
    tag: str
    digest: str | None = None
    origin: str = "reconcile"
