"""Helpers shared by the token service's tests (importable as token_helpers)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from argon2 import PasswordHasher
from berth.common.auth import Principal
from berth.token.services.scopes import Scope, intersect

INTERNAL_SECRET = "internal-test-secret"
PASSWORD = "correct horse battery"
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


class TableAuthorizer:
    """Grants per a table: (username or "*", repository name) -> actions;
    records every call. ``down`` makes it behave like an unreachable catalog."""

    def __init__(self, table: dict[tuple[str, str], Sequence[str]] | None = None) -> None:
        self.table = dict(table or {})
        self.calls: list[tuple[Principal, str, list[Scope]]] = []
        self.down = False

    def authorize(self, principal: Principal, service: str,
                  scopes: Sequence[Scope]) -> list[Scope]:
        from berth.common.errors import Unavailable

        self.calls.append((principal, service, list(scopes)))
        if self.down:
            raise Unavailable("authorization service unavailable")
        out = []
        for scope in scopes:
            allowed = list(self.table.get((principal.username, scope.name), ()))
            allowed += list(self.table.get(("*", scope.name), ()))
            if principal.kind == "service":
                allowed = list(scope.actions)
            out.append(intersect(scope, allowed))
        return out


def basic(username: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{username}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def internal() -> dict[str, str]:
    return {"X-Berth-Internal": INTERNAL_SECRET}


def assert_error(resp: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The one error shape, with ``status`` (and ``code`` when given)."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], list) and body["errors"]
    first = body["errors"][0]
    assert set(first) >= {"code", "message", "detail"}
    if code is not None:
        assert first["code"] == code
    return body
