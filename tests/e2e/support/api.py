"""Small helpers for the Portus-compatible API in end-to-end scenarios."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from tests.e2e.support.stack import RunningStack

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], timeout: float = 30.0,
               interval: float = 0.2) -> T:
    """The first non-empty result of ``probe`` within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


class Api:
    """Calls the API as one user (``Portus-Auth: user:application-token``)."""

    def __init__(self, stack: RunningStack, username: str, token: str) -> None:
        self.stack = stack
        self.headers = {"Portus-Auth": f"{username}:{token}"}

    def call(self, method: str, path: str, **kw: Any) -> Any:
        """Request ``path``; return the response."""
        return self.stack.api(method, path, headers=self.headers, **kw)

    def create_user(self, username: str, password: str) -> dict[str, Any]:
        """Create a user (admin only) and return it."""
        resp = self.call("POST", "/api/v1/users", json={"user": {
            "username": username, "email": f"{username}@example.test",
            "password": password}})
        assert resp.status_code == 201, resp.text
        return dict(resp.json())

    def repository(self, full_name: str) -> dict[str, Any] | None:
        """The repository called ``full_name``, if the catalog has it."""
        resp = self.call("GET", "/api/v1/repositories", params={"all": "true"})
        assert resp.status_code == 200, resp.text
        return next((r for r in resp.json() if r.get("full_name") == full_name), None)

    def tags(self, repository_id: int) -> list[dict[str, Any]]:
        """The tags of a repository."""
        resp = self.call("GET", f"/api/v1/repositories/{repository_id}/tags")
        assert resp.status_code == 200, resp.text
        return list(resp.json())
