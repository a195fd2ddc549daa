"""The registries the syncer serves: the configured default, merged by service
name with those the catalog knows (``GET /internal/v1/registries``).

The catalog is asked at most once per ``ttl`` and never on the request path
when it is down: the last known list (or the default alone) stays in use, so
notifications of the default registry keep flowing without the catalog.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from berth.common.auth import INTERNAL_HEADER
from berth.common.http import make_session

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Registry:
    """One registry: where to reach it, its token service name, its secret."""

    name: str
    service: str
    url: str
    hostname: str
    notification_secret: str

    def __repr__(self) -> str:
        return f"Registry(service={self.service!r}, url={self.url!r})"


Fetch = Callable[[], list[dict[str, Any]]]


def catalog_fetcher(catalog_url: str, internal_secret: str) -> Fetch:
    """A function listing the catalog's registries (raises on failure)."""
    http = make_session(timeout=(1.0, 3.0), retries=0)
    url = catalog_url.rstrip("/") + "/internal/v1/registries"

    def fetch() -> list[dict[str, Any]]:
        resp = http.get(url, headers={INTERNAL_HEADER: internal_secret})
        resp.raise_for_status()
        rows = resp.json().get("registries", [])
        if not isinstance(rows, list):
            raise TypeError("registries is not a list")
        return [r for r in rows if isinstance(r, dict)]

    return fetch


class RegistryDirectory:
    """Every known registry, by service name (thread-safe, cached)."""

    def __init__(self, default: Registry | None, fetch: Fetch | None = None,
                 ttl: float = 30.0, min_retry: float = 5.0) -> None:
        self.default = default
        self.fetch = fetch
        self.ttl = ttl
        self.min_retry = min_retry
        self._lock = threading.Lock()
        self._remote: dict[str, Registry] = {}
        self._fetched = 0.0
        self._tried = -1e9

    def all(self, refresh: bool = False) -> list[Registry]:
        """The default registry first, then the catalog's others."""
        self._maybe_refresh(force=refresh)
        merged: dict[str, Registry] = {}
        if self.default is not None:
            merged[self.default.service] = self.default
        for service, reg in self._remote.items():
            merged[service] = _merge(merged.get(service), reg)
        return list(merged.values())

    def get(self, service: str) -> Registry | None:
        """The registry named ``service``, or None."""
        for reg in self.all():
            if reg.service == service:
                return reg
        return None

    def by_secret(self, secret: str) -> Registry | None:
        """The registry whose notification secret is ``secret`` (constant time)."""
        # The configured default's own secret always works, even when the
        # catalog knows that registry with another one (rotation in progress).
        configured = [self.default] if self.default is not None else []
        found = self._match(secret, configured + self.all())
        if found is None and self.fetch is not None:
            # A registry added to the catalog moments ago: look again, at most
            # once per min_retry, so forged requests cannot hammer the catalog.
            found = self._match(secret, configured + self.all(refresh=True))
        return found

    @staticmethod
    def _match(secret: str, registries: list[Registry]) -> Registry | None:
        found = None
        for reg in registries:
            expected = reg.notification_secret
            # Compare with every candidate so timing does not reveal which matched.
            if expected and hmac.compare_digest(secret.encode(), expected.encode()):
                found = found or reg
        return found if found is None else _current(found, registries)

    def _maybe_refresh(self, force: bool) -> None:
        if self.fetch is None:
            return
        now = time.monotonic()
        fresh = now - self._fetched < self.ttl
        if (fresh and not force) or now - self._tried < self.min_retry:
            return
        with self._lock:
            if now - self._tried < self.min_retry:
                return
            self._tried = now
            try:
                rows = self.fetch()
            except Exception as exc:  # noqa: BLE001 - keep serving what we know
                log.warning("registries_fetch_failed", error=str(exc)[:200])
                return
            remote: dict[str, Registry] = {}
            for row in rows:
                reg = _from_row(row)
                if reg is not None:
                    remote[reg.service] = reg
            self._remote = remote
            self._fetched = now


def _current(reg: Registry, registries: list[Registry]) -> Registry:
    for other in registries:
        if other.service == reg.service:
            return other
    return reg


def _from_row(row: dict[str, Any]) -> Registry | None:
    service = str(row.get("service") or row.get("hostname") or "")
    if not service:
        return None
    hostname = str(row.get("hostname") or service)
    url = str(row.get("url") or "")
    return Registry(name=str(row.get("name") or hostname), service=service,
                    url=url, hostname=hostname,
                    notification_secret=str(row.get("notification_secret") or ""))


def _merge(base: Registry | None, other: Registry) -> Registry:
    if base is None:
        return other
    # The catalog's row wins where it says something; the configured default
    # fills what it leaves empty (e.g. a URL only the syncer's config knows).
    return Registry(name=other.name or base.name, service=base.service,
                    url=other.url or base.url,
                    hostname=other.hostname or base.hostname,
                    notification_secret=other.notification_secret
                    or base.notification_secret)
