"""The collaborators a request handler needs, stored on the app."""

from __future__ import annotations

from dataclasses import dataclass

from berth.common.runtime import Runtime
from berth.syncer.config import SyncerConfig
from berth.syncer.registries import RegistryDirectory
from berth.syncer.services.manifests import ManifestService
from berth.syncer.services.notifications import NotificationService
from berth.syncer.services.reconcile import Reconciler
from flask import current_app


@dataclass
class Syncer:
    """Everything the syncer's views use."""

    config: SyncerConfig
    runtime: Runtime
    directory: RegistryDirectory
    reconciler: Reconciler
    notifications: NotificationService
    manifests: ManifestService


def syncer() -> Syncer:
    """The current app's collaborators."""
    found: Syncer = current_app.extensions["berth.syncer"]
    return found
