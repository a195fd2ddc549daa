"""Every call the syncer makes to a registry's API (distribution v2).

Bearer tokens come from the token service as Berth's service principal: on a
``401`` the challenge's realm, service and scope are asked for with the
internal secret, and the token is cached per scope until shortly before it
expires. The next call for the same scope sends it straight away.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin

import requests
import structlog
from berth.common.auth import INTERNAL_HEADER
from berth.common.http import make_session

log = structlog.get_logger(__name__)

MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
USER_AGENT = "berth-syncer"
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
TOKEN_MARGIN = 30.0  # seconds before expiry a cached token is dropped


class RegistryError(Exception):
    """The registry answered something unexpected."""


class RegistryUnavailable(RegistryError):
    """Timeout, connection error or 5xx: nothing can be concluded."""


class RegistryNotFound(RegistryError):
    """The registry says the repository, tag or manifest does not exist."""


class RegistryDenied(RegistryError):
    """The registry refused even with a token (or refused the operation)."""


@dataclass(frozen=True)
class ManifestInfo:
    """What a HEAD on a manifest tells: digest, media type, size."""

    digest: str
    media_type: str | None
    size: int | None


class TokenCache:
    """Registry tokens by (realm, service, scope), shared by a process."""

    def __init__(self, internal_secret: str, http: requests.Session) -> None:
        self.internal_secret = internal_secret
        self.http = http
        self._tokens: dict[tuple[str, str, str], tuple[float, str]] = {}
        self._lock = threading.Lock()

    def cached(self, key: tuple[str, str, str]) -> str | None:
        """A still valid token for ``key``, or None."""
        hit = self._tokens.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        return None

    def obtain(self, realm: str, service: str, scope: str) -> str:
        """Ask the token service for a token (cached)."""
        key = (realm, service, scope)
        token = self.cached(key)
        if token:
            return token
        params = {"service": service}
        if scope:
            params["scope"] = scope
        try:
            resp = self.http.get(realm, params=params,
                                 headers={INTERNAL_HEADER: self.internal_secret})
        except requests.RequestException as exc:
            raise RegistryUnavailable(f"token service unreachable: {exc}") from exc
        if resp.status_code >= 500:
            raise RegistryUnavailable(f"token service answered {resp.status_code}")
        if resp.status_code != 200:
            raise RegistryDenied(f"token service answered {resp.status_code}")
        try:
            body = resp.json()
            token = str(body.get("token") or body.get("access_token") or "")
            lifetime = float(body.get("expires_in") or 60)
        except (ValueError, AttributeError) as exc:
            raise RegistryDenied("token service returned no usable token") from exc
        if not token:
            raise RegistryDenied("token service returned no token")
        with self._lock:
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            self._tokens[key] = (time.monotonic() + max(lifetime - TOKEN_MARGIN, 1.0),
                                 token)
        return token


def parse_challenge(header: str) -> dict[str, str] | None:
    """``Bearer realm=..,service=..,scope=..`` as a dict (None if not Bearer)."""
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    params = dict(_CHALLENGE_PARAM.findall(rest))
    return params if params.get("realm") else None


PING_TIMEOUT = (1.0, 2.0)   # (connect, read) seconds
# A delete is asked for by a waiting client (catalog, 30 s; gunicorn, 60 s):
# each registry call gets one attempt this long, so the client hears 503 first.
OPERATION_TIMEOUT = 10.0


class RegistryClient:
    """The distribution v2 API of one registry."""

    def __init__(self, base_url: str, *, tokens: TokenCache,
                 timeout: float = 30.0, page_size: int = 100,
                 pool_size: int = 20,
                 operation_timeout: float = OPERATION_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.page_size = page_size
        # Retries stay at the HTTP layer for idempotent reads only; a failed
        # listing is reported, never guessed.
        self.http = make_session(timeout=(3.05, timeout), retries=1,
                                 pool_size=pool_size, user_agent=USER_AGENT)
        # Health probes and operations someone waits for must answer in time
        # even when the registry hangs: one short attempt, no retry.
        self._once = make_session(timeout=PING_TIMEOUT, retries=0, pool_size=4,
                                  user_agent=USER_AGENT)
        for session in (self.http, self._once):
            settle_environment(session, self.base_url)
        self.operation_timeout = (3.05, operation_timeout)
        self._scope_tokens: dict[str, tuple[str, str, str]] = {}

    # -- low level -------------------------------------------------------
    def _send(self, method: str, url: str, scope: str,
              headers: dict[str, str] | None = None,
              once: bool = False) -> requests.Response:
        hdrs = dict(headers or {})
        key = self._scope_tokens.get(scope)
        token = self.tokens.cached(key) if key else None
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        resp = self._raw(method, url, hdrs, once)
        if resp.status_code == 401:
            challenge = parse_challenge(resp.headers.get("WWW-Authenticate", ""))
            if challenge is None:
                raise RegistryDenied("registry refused without a bearer challenge")
            wanted = challenge.get("scope", scope)
            token = self.tokens.obtain(challenge["realm"],
                                       challenge.get("service", ""), wanted)
            if len(self._scope_tokens) > 10_000:
                self._scope_tokens.clear()  # one entry per repository: stay bounded
            self._scope_tokens[scope] = (challenge["realm"],
                                         challenge.get("service", ""), wanted)
            hdrs["Authorization"] = f"Bearer {token}"
            resp = self._raw(method, url, hdrs, once)
        if resp.status_code >= 500:
            raise RegistryUnavailable(f"{method} {url}: {resp.status_code}")
        if resp.status_code in (401, 403):
            raise RegistryDenied(f"{method} {url}: {resp.status_code}")
        return resp

    def _raw(self, method: str, url: str, headers: dict[str, str],
             once: bool = False) -> requests.Response:
        try:
            if once:
                return self._once.request(method, url, headers=headers,
                                          allow_redirects=False,
                                          timeout=self.operation_timeout)
            return self.http.request(method, url, headers=headers,
                                     allow_redirects=False)
        except requests.RequestException as exc:
            raise RegistryUnavailable(f"{method} {url}: {type(exc).__name__}") from exc

    def _pages(self, first: str, scope: str, key: str) -> Iterator[list[str]]:
        url: str | None = first
        while url:
            resp = self._send("GET", url, scope)
            if resp.status_code == 404:
                raise RegistryNotFound(url)
            if resp.status_code != 200:
                raise RegistryError(f"GET {url}: {resp.status_code}")
            try:
                items = resp.json().get(key) or []
            except ValueError as exc:
                raise RegistryUnavailable(f"GET {url}: body is not JSON") from exc
            yield [str(i) for i in items]
            nxt = resp.links.get("next", {}).get("url")
            url = urljoin(self.base_url + "/", nxt) if nxt else None

    # -- API ---------------------------------------------------------------
    def ping(self) -> None:
        """Raise unless ``GET /v2/`` answers 200 or 401 (reachable)."""
        try:
            resp = self._once.get(self.base_url + "/v2/")
        except requests.RequestException as exc:
            raise RegistryUnavailable(str(exc)) from exc
        if resp.status_code not in (200, 401):
            raise RegistryUnavailable(f"GET /v2/: {resp.status_code}")

    def catalog(self) -> Iterator[list[str]]:
        """Repository names, one page at a time (``n``/``last`` and Link)."""
        first = f"{self.base_url}/v2/_catalog?n={self.page_size}"
        yield from self._pages(first, "registry:catalog:*", "repositories")

    def tags(self, repository: str) -> Iterator[list[str]]:
        """Tag names of ``repository``, one page at a time."""
        first = f"{self.base_url}/v2/{_path(repository)}/tags/list?n={self.page_size}"
        yield from self._pages(first, f"repository:{repository}:pull", "tags")

    def manifest(self, repository: str, reference: str) -> ManifestInfo:
        """Digest, media type and size of a tag or digest (HEAD, no body)."""
        url = f"{self.base_url}/v2/{_path(repository)}/manifests/{quote(reference)}"
        resp = self._send("HEAD", url, f"repository:{repository}:pull",
                          {"Accept": ", ".join(MANIFEST_TYPES)})
        if resp.status_code == 404:
            raise RegistryNotFound(f"{repository}:{reference}")
        if resp.status_code != 200:
            raise RegistryError(f"HEAD {url}: {resp.status_code}")
        digest = resp.headers.get("Docker-Content-Digest", "")
        if not digest:
            raise RegistryError(f"HEAD {url}: no Docker-Content-Digest")
        length = resp.headers.get("Content-Length")
        ctype = resp.headers.get("Content-Type")
        return ManifestInfo(digest=digest, media_type=ctype or None,
                            size=int(length) if length and length.isdigit() else None)

    def delete_manifest(self, repository: str, digest: str) -> None:
        """``DELETE /v2/<name>/manifests/<digest>`` (202 expected)."""
        url = f"{self.base_url}/v2/{_path(repository)}/manifests/{quote(digest)}"
        resp = self._send("DELETE", url, f"repository:{repository}:delete", once=True)
        if resp.status_code in (200, 202):
            return
        if resp.status_code == 404:
            raise RegistryNotFound(f"{repository}@{digest}")
        if resp.status_code == 405:
            raise RegistryDenied("the registry has deletes disabled")
        raise RegistryError(f"DELETE {url}: {resp.status_code}")


def settle_environment(session: requests.Session, base_url: str) -> None:
    """Resolve proxies, CA bundle and netrc for ``base_url`` once, not per call.

    With ``trust_env`` requests reads the environment's proxies (and parses
    NO_PROXY), looks for a netrc file and checks the CA bundle path on every
    request: a third of the client's CPU time on a reconcile's HEADs. The
    answers for one registry URL do not change while the process runs, so they
    are read here, once, with requests' own functions (same precedence).
    """
    session.trust_env = False
    session.proxies = dict(requests.utils.get_environ_proxies(base_url))
    if base_url.startswith("https:"):
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            session.verify = bundle
    auth = requests.utils.get_netrc_auth(base_url)
    if auth and session.auth is None:
        session.auth = auth


def _path(repository: str) -> str:
    return "/".join(quote(part, safe="") for part in repository.split("/"))


def client_kwargs(config: Any) -> dict[str, Any]:
    """RegistryClient options from a SyncerConfig."""
    return {"timeout": config.registry_timeout, "page_size": config.sync_page_size,
            "pool_size": max(config.sync_parallelism * 2, 10)}
