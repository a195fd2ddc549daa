"""What a user may see, asked of the catalog (which owns teams and namespaces).

The audit service knows no memberships. For each request of a non-admin it
asks the catalog's ``GET /internal/v1/visibility`` (docs/internal-api.md),
keeping each answer a few seconds per process. A catalog that cannot answer
makes the request fail with 503: the log never silently shows less (or more)
than the rule says.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
import structlog

from berth.audit.errors import CatalogUnavailable
from berth.common.http import make_session

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Scope:
    """The namespaces and teams one user may see, besides their own actions."""

    #: registry service name -> names of the namespaces visible in it
    namespaces: dict[str, frozenset[str]] = field(default_factory=dict)
    namespace_ids: frozenset[int] = frozenset()
    #: registry service names whose global namespace is visible
    global_registries: frozenset[str] = frozenset()
    team_ids: frozenset[int] = frozenset()

    @classmethod
    def from_answer(cls, body: dict[str, Any]) -> Scope:
        """Parse the catalog's answer; raise ValueError, KeyError or TypeError."""
        names: dict[str, set[str]] = {}
        ids: set[int] = set()
        global_: set[str] = set()
        for ns in body["namespaces"]:
            registry, name, ns_id = str(ns["registry"]), str(ns["name"]), ns["id"]
            if not isinstance(ns_id, int) or isinstance(ns_id, bool):
                raise TypeError("namespace id is not an integer")
            ids.add(ns_id)
            if ns.get("global"):
                global_.add(registry)
            else:
                names.setdefault(registry, set()).add(name)
        teams = {t["id"] for t in body["teams"]}
        if not all(isinstance(t, int) and not isinstance(t, bool) for t in teams):
            raise TypeError("team id is not an integer")
        return cls(namespaces={r: frozenset(n) for r, n in names.items()},
                   namespace_ids=frozenset(ids), global_registries=frozenset(global_),
                   team_ids=frozenset(teams))


NOTHING = Scope()


class Memberships(Protocol):
    """Tells what a user may see besides their own actions."""

    def scope_for(self, user_id: int) -> Scope:
        """The scope of ``user_id``; raise CatalogUnavailable if unknown now."""
        ...


class StaticMemberships:
    """Scopes given up front (tests, and deployments without a catalog)."""

    def __init__(self, scopes: dict[int, Scope] | None = None) -> None:
        self.scopes = dict(scopes or {})

    def scope_for(self, user_id: int) -> Scope:
        """The given scope, or nothing."""
        return self.scopes.get(user_id, NOTHING)


class CatalogMemberships:
    """Asks the catalog, keeping answers ``ttl`` seconds (per process)."""

    MAX_ENTRIES = 4096

    def __init__(self, catalog_url: str, internal_secret: str, *, ttl: float = 5.0,
                 session: requests.Session | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.url = catalog_url.rstrip("/") + "/internal/v1/visibility"
        self.secret = internal_secret
        self.ttl = ttl
        self.session = session or make_session(timeout=(2.0, 5.0), retries=1)
        self.clock = clock
        self._cache: dict[int, tuple[float, Scope]] = {}
        self._lock = threading.Lock()

    def scope_for(self, user_id: int) -> Scope:
        """The catalog's answer for ``user_id`` (cached); NOTHING for a user it
        does not know; CatalogUnavailable when it cannot answer."""
        now = self.clock()
        with self._lock:
            hit = self._cache.get(user_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        scope = self._ask(user_id)
        with self._lock:
            if len(self._cache) >= self.MAX_ENTRIES:
                self._cache.clear()
            self._cache[user_id] = (now + self.ttl, scope)
        return scope

    def _ask(self, user_id: int) -> Scope:
        try:
            resp = self.session.get(self.url, params={"user_id": str(user_id)},
                                    headers={"X-Berth-Internal": self.secret})
        except requests.RequestException as exc:
            log.warning("catalog_visibility_unreachable", error=str(exc))
            raise CatalogUnavailable(
                "the catalog cannot say what you may see; try again") from exc
        if resp.status_code == 404 and _code(resp) == "USER_UNKNOWN":
            return NOTHING
        try:
            if resp.status_code != 200:
                raise ValueError(f"status {resp.status_code}")
            return Scope.from_answer(resp.json())
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("catalog_visibility_failed", status=resp.status_code,
                        error=str(exc))
            raise CatalogUnavailable(
                "the catalog cannot say what you may see; try again") from exc


def _code(resp: requests.Response) -> str | None:
    try:
        return str(resp.json()["errors"][0]["code"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None
