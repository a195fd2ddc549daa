"""Who decides what a principal may do: the catalog. The token service only asks
(``POST /internal/v1/authorize``) and never grants more than was asked for."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

import structlog
from berth.common.auth import INTERNAL_HEADER, Principal
from berth.common.errors import BadRequest, Unavailable
from berth.common.http import make_session
from berth.token import metrics
from berth.token.errors import CATALOG_UNAVAILABLE, SCOPE_INVALID
from berth.token.services.scopes import Scope, intersect
from requests import RequestException

log = structlog.get_logger(__name__)


class Authorizer(Protocol):
    """Decides which of the requested actions a principal gets."""

    def authorize(self, principal: Principal, service: str,
                  scopes: Sequence[Scope]) -> list[Scope]:
        """The requested scopes, each cut down to what is granted, in order."""


class CatalogAuthorizer:
    """Asks the catalog over HTTP; anything but a valid answer is a 503, never a grant."""

    def __init__(self, catalog_url: str, internal_secret: str,
                 timeout: float = 3.0) -> None:
        self.url = catalog_url.rstrip("/") + "/internal/v1/authorize"
        self.secret = internal_secret
        # POSTs are not retried by make_session; a short timeout keeps docker
        # clients from hanging when the catalog is down.
        self.http = make_session(timeout=(min(1.0, timeout), timeout), retries=0)

    def authorize(self, principal: Principal, service: str,
                  scopes: Sequence[Scope]) -> list[Scope]:
        """Ask the catalog; 503 when it cannot answer."""
        body = {"principal": principal.to_dict(), "service": service,
                "scopes": [s.to_request() for s in scopes]}
        started = time.perf_counter()
        try:
            resp = self.http.post(self.url, json=body,
                                  headers={INTERNAL_HEADER: self.secret})
        except RequestException as exc:
            log.warning("catalog_unreachable", error=type(exc).__name__)
            raise _unavailable() from exc
        finally:
            # The round trips only: answers from CachedAuthorizer are not asks.
            metrics.AUTHORIZE_SECONDS.observe(time.perf_counter() - started)
        if resp.status_code == 400:
            # The catalog refuses a name the scope grammar lets through (e.g. a
            # host part: "Host:5000/app"): the request is bad, not the service
            # down, and a 503 would have clients retry it forever.
            log.info("catalog_refused_scope", status=400)
            raise BadRequest("invalid scope: the repository name is not valid here",
                             code=SCOPE_INVALID)
        if resp.status_code != 200:
            log.warning("catalog_authorize_failed", status=resp.status_code)
            raise _unavailable()
        try:
            return granted_from_answer(scopes, resp.json())
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("catalog_answer_invalid", error=str(exc)[:200])
            raise _unavailable() from exc


def granted_from_answer(asked: Sequence[Scope], answer: Any) -> list[Scope]:
    """Match the catalog's answer to the request, position by position."""
    rows = answer["scopes"]
    if not isinstance(rows, list) or len(rows) != len(asked):
        raise ValueError("answer does not match the request")
    out = []
    for scope, row in zip(asked, rows, strict=True):
        if row.get("name") != scope.name or row.get("type") != scope.type:
            raise ValueError("answer does not match the request")
        actions = row.get("actions") or []
        if not isinstance(actions, list):
            raise TypeError("actions is not a list")
        out.append(intersect(scope, [str(a) for a in actions]))
    return out


def _unavailable() -> Unavailable:
    return Unavailable("authorization service unavailable", code=CATALOG_UNAVAILABLE)


class CachedAuthorizer:
    """Reuses an answer for the same question for ``ttl`` seconds.

    A docker push or pull asks for a token per layer with the same scopes; the
    catalog's answer cannot change within a request burst except by an admin's
    action, whose effect is then delayed by at most ``ttl`` (default 2 s). A
    disabled or locked user is still refused at once: the token service checks
    the account itself before asking. Only grants are cached, never errors.
    """

    MAX_ENTRIES = 10_000

    def __init__(self, inner: Authorizer, ttl: float) -> None:
        self.inner = inner
        self.ttl = ttl
        self._answers: dict[tuple[Any, ...], tuple[float, list[Scope]]] = {}
        self._lock = threading.Lock()

    def authorize(self, principal: Principal, service: str,
                  scopes: Sequence[Scope]) -> list[Scope]:
        """The inner authorizer's answer, from the cache while it is fresh."""
        if self.ttl <= 0:
            return self.inner.authorize(principal, service, scopes)
        key = (principal.id, principal.username, principal.admin, principal.kind,
               service, tuple(s.to_string() for s in scopes))
        now = time.monotonic()
        hit = self._answers.get(key)
        if hit is not None and hit[0] > now:
            return list(hit[1])
        granted = self.inner.authorize(principal, service, scopes)
        with self._lock:
            if len(self._answers) >= self.MAX_ENTRIES:
                self._answers = {k: v for k, v in self._answers.items() if v[0] > now}
                if len(self._answers) >= self.MAX_ENTRIES:
                    self._answers.clear()
            self._answers[key] = (now + self.ttl, list(granted))
        return granted
