"""Every error code the catalog answers with (besides the common ones)."""

from __future__ import annotations

from berth.common.errors import Conflict, Denied, Invalid, NotFound, Unavailable

NAME_INVALID = "NAME_INVALID"
NAME_TAKEN = "NAME_TAKEN"
NAMESPACE_UNKNOWN = "NAMESPACE_UNKNOWN"
LAST_OWNER = "LAST_OWNER"
HIDDEN_TEAM = "HIDDEN_TEAM"
PROTECTED_NAMESPACE = "PROTECTED_NAMESPACE"
REGISTRY_UNAVAILABLE = "REGISTRY_UNAVAILABLE"
DELETE_DISABLED = "DELETE_DISABLED"


def name_invalid(field: str, message: str) -> Invalid:
    """A name that breaks the grammar (422)."""
    return Invalid(message, code=NAME_INVALID, detail={"field": field})


def name_taken(field: str, name: str) -> Conflict:
    """A name already used (409)."""
    return Conflict(f"{field} '{name}' is already taken", code=NAME_TAKEN,
                    detail={"field": field})


def not_found(kind: str) -> NotFound:
    """Unknown, or not visible to the caller: the same answer (404)."""
    return NotFound(f"{kind} not found")


def denied(rule: str, message: str = "you are not allowed to do this") -> Denied:
    """Forbidden; ``rule`` is the policy rule that decided (403)."""
    return Denied(message, detail={"rule": rule})


def registry_unavailable() -> Unavailable:
    """The registry (through the syncer) could not be reached (503)."""
    return Unavailable("the registry is unavailable; nothing was deleted",
                       code=REGISTRY_UNAVAILABLE)
