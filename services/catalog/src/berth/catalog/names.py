"""The registry's name grammar (distribution/reference) and Berth's team names."""

from __future__ import annotations

import re

# One path component of a repository name, as the registry defines it.
COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*$")
TAG = re.compile(r"^[\w][\w.-]{0,127}$")
TEAM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,254}$")
MAX_NAME = 255


def namespace_problem(name: str) -> str | None:
    """Why ``name`` is not a valid namespace name, or None."""
    if not name:
        return "name can't be blank"
    if len(name) > MAX_NAME:
        return f"name is too long (max {MAX_NAME})"
    if not COMPONENT.match(name):
        return ("name can only contain lower case letters and digits, separated "
                "by '.', '_', '__' or dashes")
    return None


def repository_problem(full_name: str) -> str | None:
    """Why ``full_name`` ("ns/name" or "name") is not a valid repository name."""
    if not full_name or len(full_name) > MAX_NAME:
        return "repository name must have 1 to 255 characters"
    for part in full_name.split("/"):
        if not COMPONENT.match(part):
            return f"invalid path component {part!r}"
    return None


def team_problem(name: str) -> str | None:
    """Why ``name`` is not a valid team name (hidden teams use other names)."""
    if not name or not name.strip():
        return "name can't be blank"
    if not TEAM.match(name):
        return ("name must start with a letter or digit and contain only letters, "
                "digits, spaces, '_', '.' and '-' (max 255)")
    return None


def split_repository(full_name: str) -> tuple[str | None, str]:
    """("namespace", "name") of a repository; None for the global namespace."""
    if "/" not in full_name:
        return None, full_name
    namespace, name = full_name.split("/", 1)
    return namespace, name


def personal_namespace_name(username: str) -> str:
    """A valid namespace name derived from a username (Portus does the same)."""
    lowered = username.lower()
    cleaned = re.sub(r"[^a-z0-9]+", "-", lowered).strip("-._") or "user"
    return cleaned[:MAX_NAME]


def personal_team_name(user_id: int) -> str:
    """The hidden team of a user's personal namespace (outside the team grammar)."""
    return f"~user-{user_id}"


def global_team_name(registry_id: int) -> str:
    """The hidden team owning a registry's global namespace."""
    return f"~global-{registry_id}"
