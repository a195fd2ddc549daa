"""The distribution token spec's scope grammar (docs/spec/auth/scope.md), parsed
strictly: one malformed scope fails the whole request, never a partial grant.

    scope         := resourcescope [ ' ' resourcescope ]*
    resourcescope := resourcetype ":" resourcename ":" action [ "," action ]*
    resourcetype  := /[a-z0-9]+/ [ "(" /[a-z0-9]+/ ")" ]
    resourcename  := [ hostname "/" ] component [ "/" component ]*
    action        := /[a-z]*/   (and "*")

The name may hold colons (``host:5000/repo``), so the type ends at the first
colon and the actions start after the last one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from berth.common.errors import BadRequest
from berth.token.errors import SCOPE_INVALID

_TYPE = re.compile(r"^([a-z0-9]+)(?:\(([a-z0-9]+)\))?$")
_HOST_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"{_HOST_PART}(?:\.{_HOST_PART})*(?::[0-9]+)?"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME = re.compile(rf"^(?:{_HOST}/)?{_COMPONENT}(?:/{_COMPONENT})*$")
_ACTION = re.compile(r"^(?:[a-z]*|\*)$")
MAX_NAME_LENGTH = 255
MAX_SCOPES = 64

#: resource type -> the actions Berth knows for it, in canonical order;
#: anything else a client asks for is dropped (the spec allows that).
KNOWN_ACTIONS: dict[str, tuple[str, ...]] = {
    "repository": ("pull", "push", "delete", "*"),
    "registry": ("*",),
}
REGISTRY_NAMES = frozenset({"catalog"})


@dataclass(frozen=True)
class Scope:
    """One resource and the actions asked for (or granted) on it."""

    type: str
    name: str
    actions: tuple[str, ...] = field(default=())
    resource_class: str | None = None

    @property
    def key(self) -> tuple[str, str | None, str]:
        """What identifies the resource (repeated scopes merge on it)."""
        return (self.type, self.resource_class, self.name)

    def to_request(self) -> dict[str, Any]:
        """The form the catalog's authorize endpoint takes."""
        return {"type": self.type, "class": self.resource_class, "name": self.name,
                "actions": list(self.actions)}

    def to_claim(self) -> dict[str, Any]:
        """The form of one entry of the JWT ``access`` claim."""
        claim: dict[str, Any] = {"type": self.type, "name": self.name,
                                 "actions": list(self.actions)}
        if self.resource_class:
            claim["class"] = self.resource_class
        return claim

    def to_string(self) -> str:
        """Back to the scope syntax (for the OAuth2 ``scope`` answer)."""
        kind = f"{self.type}({self.resource_class})" if self.resource_class else self.type
        return f"{kind}:{self.name}:{','.join(self.actions)}"


def _invalid(raw: str, why: str) -> BadRequest:
    return BadRequest(f"invalid scope: {why}", code=SCOPE_INVALID,
                      detail={"scope": raw[:300]})


def parse_one(raw: str) -> Scope:
    """Parse one resource scope; raise 400 when malformed or of an unknown type."""
    kind, sep1, rest = raw.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not sep1 or not sep2 or not name:
        raise _invalid(raw, "expected type:name:actions")
    match = _TYPE.fullmatch(kind)
    if match is None:
        raise _invalid(raw, "malformed resource type")
    rtype, rclass = match.group(1), match.group(2)
    if rtype not in KNOWN_ACTIONS:
        raise _invalid(raw, f"unknown resource type {rtype!r}")
    if len(name) > MAX_NAME_LENGTH or _NAME.fullmatch(name) is None:
        raise _invalid(raw, "malformed resource name")
    if rtype == "registry" and (name not in REGISTRY_NAMES or rclass):
        raise _invalid(raw, "unknown registry resource")
    wanted = actions.split(",")
    for action in wanted:
        if _ACTION.fullmatch(action) is None:
            raise _invalid(raw, "malformed action")
    known = KNOWN_ACTIONS[rtype]
    kept = tuple(a for a in known if a in wanted)
    return Scope(type=rtype, name=name, actions=kept, resource_class=rclass)


def parse_scopes(values: Iterable[str]) -> list[Scope]:
    """Parse every ``scope`` parameter (each may hold several, space separated),
    merging repeated resources and keeping first-seen order."""
    merged: dict[tuple[str, str | None, str], Scope] = {}
    count = 0
    for value in values:
        for raw in value.split(" "):
            if not raw:
                continue
            count += 1
            if count > MAX_SCOPES:
                raise _invalid(raw, f"more than {MAX_SCOPES} scopes")
            scope = parse_one(raw)
            previous = merged.get(scope.key)
            if previous is not None:
                union = set(previous.actions) | set(scope.actions)
                order = KNOWN_ACTIONS[scope.type]
                scope = Scope(type=scope.type, name=scope.name,
                              resource_class=scope.resource_class,
                              actions=tuple(a for a in order if a in union))
            merged[scope.key] = scope
    return list(merged.values())


def intersect(asked: Scope, granted_actions: Iterable[str]) -> Scope:
    """``asked`` with only the actions also in ``granted_actions``."""
    allowed = set(granted_actions)
    return Scope(type=asked.type, name=asked.name, resource_class=asked.resource_class,
                 actions=tuple(a for a in asked.actions if a in allowed))
