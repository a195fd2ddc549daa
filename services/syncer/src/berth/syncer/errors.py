"""Every error code the syncer can return (beyond the common ones)."""

from __future__ import annotations

from berth.common.errors import (
    BadRequest,
    Conflict,
    NotFound,
    Unauthorized,
    Unavailable,
)


class BadNotification(BadRequest):
    """A notification body we cannot read (400; nothing was stored)."""

    code = "MALFORMED_NOTIFICATION"


class NotificationRefused(Unauthorized):
    """A notification without a known registry's secret (401)."""

    code = "UNAUTHORIZED"


class SyncRunning(Conflict):
    """A reconcile is already running somewhere (409)."""

    code = "SYNC_RUNNING"


class RunNotFound(NotFound):
    """No such sync run (404)."""

    code = "NOT_FOUND"


class RegistryUnknown(NotFound):
    """No registry with that service name (404)."""

    code = "REGISTRY_UNKNOWN"


class ManifestUnknown(NotFound):
    """The registry does not have that manifest (404)."""

    code = "MANIFEST_UNKNOWN"


class RegistryDown(Unavailable):
    """The registry could not be reached or refused the operation (503)."""

    code = "REGISTRY_UNAVAILABLE"
