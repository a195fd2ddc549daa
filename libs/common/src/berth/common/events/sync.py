"""Events the syncer produces about its reconcile runs."""

from __future__ import annotations

from dataclasses import dataclass

from berth.common.events.base import Event


@dataclass(frozen=True)
class SyncRunFinished(Event):
    """A reconcile run ended (published when it changed something, hit errors,
    or was started by someone; a quiet periodic run stays silent)."""

    TYPE = "sync.run.finished"
    VERSION = 1
    run_id: int
    status: str              # succeeded, partial, failed
    strategy: str            # update or update-delete
    triggered_by: str
    repositories: int = 0
    tags: int = 0
    added: int = 0
    removed: int = 0
    changed: int = 0
    errors: int = 0
    duration: float | None = None
