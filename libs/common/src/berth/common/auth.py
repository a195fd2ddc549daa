"""Who is calling: API JWTs, ``Portus-Auth`` / Basic credentials resolved by the
token service (cached briefly), and Berth's internal service secret.

Every service except the token service authenticates API callers here; the
token service plugs its own resolver in (it owns the credentials).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from berth.common.errors import Denied, Unauthorized, Unavailable
from berth.common.http import make_session
from berth.common.web import client_address

if TYPE_CHECKING:
    from flask import Flask

    from berth.common.signing import PublicKey

log = structlog.get_logger(__name__)

API_AUDIENCE = "berth-api"
INTERNAL_HEADER = "X-Berth-Internal"


@dataclass(frozen=True)
class Principal:
    """The caller of a request."""

    id: int | None
    username: str
    admin: bool = False
    kind: str = "user"        # user, bot, service, anonymous
    via: str = "anonymous"    # jwt, application_token, password, internal
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def anonymous(self) -> bool:
        """True when nobody authenticated."""
        return self.kind == "anonymous"

    def to_dict(self) -> dict[str, Any]:
        """The form services exchange (e.g. in authorize requests)."""
        return {"id": self.id, "username": self.username, "admin": self.admin,
                "kind": self.kind}

    @classmethod
    def from_dict(cls, data: dict[str, Any], via: str = "internal") -> Principal:
        """Inverse of :meth:`to_dict`."""
        return cls(id=data.get("id"), username=str(data.get("username") or ""),
                   admin=bool(data.get("admin")), kind=str(data.get("kind") or "user"),
                   via=via)


ANONYMOUS = Principal(id=None, username="", kind="anonymous")
SERVICE = Principal(id=None, username="berth", admin=True, kind="service",
                    via="internal")

CredentialResolver = Callable[[str, str, str], "Principal | None"]


class JwksKeys:
    """Public keys of the token service, from its JWKS URL or given directly."""

    def __init__(self, url: str | None = None, static: dict[str, PublicKey] | None = None,
                 ttl: float = 300.0) -> None:
        self.url = url
        self.static = static
        self.ttl = ttl
        self._keys: dict[str, PublicKey] = {}
        self._fetched = 0.0
        self._lock = threading.Lock()
        # Static keys never fetch; building an HTTP session (TLS context) costs ~50 ms.
        self._http = make_session(timeout=(2.0, 5.0)) if static is None else None

    def get(self, kid: str | None = None) -> dict[str, PublicKey]:
        """Current keys; refetch when stale or when ``kid`` is unknown (rotation)."""
        if self.static is not None:
            return self.static
        now = time.monotonic()
        stale = now - self._fetched > self.ttl
        unknown = kid is not None and kid not in self._keys and now - self._fetched > 5
        if stale or unknown:
            from berth.common.signing import keys_from_jwks

            with self._lock:
                try:
                    assert self._http is not None
                    resp = self._http.get(str(self.url))
                    resp.raise_for_status()
                    self._keys = keys_from_jwks(resp.json())
                    self._fetched = now
                except Exception as exc:  # keep the old keys; say why
                    log.warning("jwks_fetch_failed", error=str(exc)[:200])
                    if not self._keys:
                        raise Unavailable("token service keys unavailable") from exc
        return self._keys


class RemoteCredentials:
    """Resolve ``user:secret`` through the token service, with a short cache.

    Only successes are cached (``ttl`` seconds, keyed by a hash of user and
    secret): a wrong secret always asks again, and a user disabled or locked
    meanwhile keeps a cached success for at most ``ttl``."""

    def __init__(self, token_url: str, internal_secret: str, ttl: float = 30.0) -> None:
        self.url = token_url.rstrip("/") + "/internal/v1/principal"
        self.secret = internal_secret
        self.ttl = ttl
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._http = make_session(timeout=(2.0, 5.0), retries=1)

    def __call__(self, username: str, secret: str, address: str) -> Principal | None:
        key = hashlib.sha256(f"{username}\0{secret}".encode()).hexdigest()
        hit = self._cache.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        try:
            resp = self._http.post(self.url, json={"username": username,
                                                   "secret": secret,
                                                   "address": address},
                                   headers={INTERNAL_HEADER: self.secret})
        except Exception as exc:
            raise Unavailable("token service unavailable") from exc
        # 400/422: the token service found the username or secret malformed
        # (too long, say); to the caller that is a wrong credential, not an outage.
        if resp.status_code in (400, 401, 403, 404, 422):
            return None
        if resp.status_code == 429:
            raise Unauthorized("too many failed attempts; try again later")
        if resp.status_code != 200:
            raise Unavailable("token service unavailable")
        principal = Principal.from_dict(resp.json()["principal"], via="credentials")
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (time.monotonic() + self.ttl, principal)
        return principal


class Authenticator:
    """Turns request headers into a :class:`Principal`."""

    def __init__(self, *, keys: JwksKeys, credentials: CredentialResolver | None,
                 internal_secret: str, issuer: str | None = None) -> None:
        self.keys = keys
        self.credentials = credentials
        self.internal_secret = internal_secret
        self.issuer = issuer

    def authenticate(self) -> Principal:
        """The caller of the current request (ANONYMOUS when no credentials)."""
        from flask import request

        internal = request.headers.get(INTERNAL_HEADER)
        if internal is not None:
            if self.internal_secret and hmac.compare_digest(
                    internal.encode(), self.internal_secret.encode()):
                return SERVICE
            raise Unauthorized("invalid internal credentials")
        portus = request.headers.get("Portus-Auth")
        if portus:
            user, sep, secret = portus.partition(":")
            if not sep or not user or not secret:
                raise Unauthorized("malformed Portus-Auth header")
            return self._credentials(user, secret)
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value:
            return self._jwt(value.strip())
        if scheme.lower() == "basic" and value:
            try:
                user, sep, secret = base64.b64decode(value).decode().partition(":")
            except (ValueError, UnicodeDecodeError) as exc:
                raise Unauthorized("malformed Basic credentials") from exc
            if not sep:
                raise Unauthorized("malformed Basic credentials")
            return self._credentials(user, secret)
        if header:
            raise Unauthorized("unsupported authorization scheme")
        return ANONYMOUS

    def _credentials(self, username: str, secret: str) -> Principal:
        if self.credentials is None:
            raise Unauthorized("credentials are not accepted here")
        # The client's address, not the proxy's: the token service throttles by it.
        principal = self.credentials(username, secret, client_address())
        if principal is None:
            raise Unauthorized("invalid credentials")
        return principal

    def _jwt(self, token: str) -> Principal:
        import jwt as pyjwt

        from berth.common.signing import TokenInvalid, verify

        try:
            kid = pyjwt.get_unverified_header(token).get("kid")
            claims = verify(token, self.keys.get(kid), audience=API_AUDIENCE,
                            issuer=self.issuer)
        except (TokenInvalid, pyjwt.PyJWTError) as exc:
            raise Unauthorized("invalid or expired token") from exc
        return Principal(id=claims.get("uid"), username=str(claims["sub"]),
                         admin=bool(claims.get("adm")),
                         kind="bot" if claims.get("bot") else "user", via="jwt")


def install_auth(app: Flask, authenticator: Authenticator) -> None:
    """Make :func:`current_principal` available in ``app``'s requests."""
    app.extensions["berth.authenticator"] = authenticator


def current_principal() -> Principal:
    """The caller of the current request (resolved once, lazily)."""
    from flask import current_app, g

    if "principal" not in g:
        g.principal = current_app.extensions["berth.authenticator"].authenticate()
    principal: Principal = g.principal
    return principal


def require_user() -> Principal:
    """The caller, who must be logged in (401 otherwise)."""
    principal = current_principal()
    if principal.anonymous:
        raise Unauthorized("authentication required",
                           headers={"WWW-Authenticate": 'Basic realm="berth"'})
    return principal


def require_admin() -> Principal:
    """The caller, who must be an admin (401/403 otherwise)."""
    principal = require_user()
    if not principal.admin:
        raise Denied("admin rights required")
    return principal


def require_internal() -> Principal:
    """The caller, who must be one of Berth's own services."""
    principal = current_principal()
    if principal.kind != "service":
        raise Unauthorized("internal endpoint")
    return principal
