"""Every call the web UI makes to the other services, in one place.

The UI owns no data: it signs users in through the token service, keeps their
API JWT in the session, and calls the catalog, token, audit and syncer APIs
with it. Their one error shape is mapped to :class:`ApiError` carrying the
message to show; a service that does not answer becomes :class:`ServiceDown`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import structlog
from berth.common.auth import INTERNAL_HEADER
from berth.common.config import CommonSettings
from berth.common.http import make_session
from berth.common.logging import REQUEST_ID_HEADER, current_request_id
from berth.webui.metrics import UPSTREAM_ERRORS
from berth.webui.timing import add_upstream

log = structlog.get_logger(__name__)

Json = dict[str, Any]


class ApiError(Exception):
    """A service answered with an error; ``message`` is fit to show the user."""

    def __init__(self, status: int, message: str, code: str = "",
                 retry_after: int | None = None, detail: Json | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.retry_after = retry_after
        self.detail = detail or {}


class ServiceDown(ApiError):
    """A service could not be reached or failed (5xx)."""

    def __init__(self, service: str) -> None:
        super().__init__(503, f"The {service} service is not available right now. "
                              "Please try again in a moment.", "UNAVAILABLE")
        self.service = service


@dataclass
class Page:
    """One page of a list, with Portus' pagination headers read back."""

    items: list[Json]
    page: int = 1
    pages: int = 1
    total: int = 0
    per_page: int = 0
    capped: bool = False    # X-Total-Capped: total and pages are lower bounds

    @property
    def has_next(self) -> bool:
        """Is there a next page (past a capped total: while pages are full)?"""
        if self.page < self.pages:
            return True
        return self.capped and 0 < self.per_page <= len(self.items)

    def __iter__(self) -> Iterator[Json]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass
class TokenPair:
    """An API JWT and the refresh token that renews it."""

    token: str
    expires_in: int
    refresh_token: str


def _message(resp: requests.Response) -> tuple[str, str, Json]:
    try:
        body = resp.json()
    except ValueError:
        return f"unexpected answer ({resp.status_code})", "", {}
    if not isinstance(body, dict):
        return f"unexpected answer ({resp.status_code})", "", {}
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    message = body.get("message")
    if isinstance(message, dict):  # Portus' field -> [messages] form
        message = "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                            for k, v in message.items())
    text = str(message or first.get("message") or f"error {resp.status_code}")
    raw_detail = first.get("detail")
    detail: Json = raw_detail if isinstance(raw_detail, dict) else {}
    return text, str(first.get("code") or ""), detail


@dataclass
class ApiClient:
    """A client of Berth's APIs, optionally acting with one user's API JWT."""

    settings: CommonSettings
    token: str | None = None
    sessions: dict[str, requests.Session] = field(default_factory=dict)
    client_address: str | None = None

    def with_token(self, token: str | None, client_address: str | None = None
                   ) -> ApiClient:
        """The same client (sharing connection pools) acting as another caller."""
        return ApiClient(self.settings, token, self.sessions, client_address)

    # -- transport -----------------------------------------------------------

    def _base(self, service: str) -> str:
        urls = {"token": self.settings.token_url, "catalog": self.settings.catalog_url,
                "audit": self.settings.audit_url, "syncer": self.settings.syncer_url}
        return urls[service].rstrip("/")

    def _session(self, service: str) -> requests.Session:
        if service not in self.sessions:
            self.sessions[service] = make_session(timeout=(2.0, 10.0), retries=1,
                                                  user_agent="berth-webui")
        return self.sessions[service]

    def raw(self, service: str, method: str, path: str, *,
            params: Mapping[str, Any] | None = None, json: Any = None,
            auth: tuple[str, str] | None = None,
            headers: Mapping[str, str] | None = None,
            stream: bool = False) -> requests.Response:
        """Send one request; raise :class:`ApiError` on any error status."""
        hdrs = {"Accept": "application/json", **(headers or {})}
        if self.token and auth is None:
            hdrs["Authorization"] = f"Bearer {self.token}"
        rid = current_request_id()
        if rid:
            hdrs[REQUEST_ID_HEADER] = rid
        if self.client_address:
            hdrs["X-Forwarded-For"] = self.client_address
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        started = time.perf_counter()
        try:
            resp = self._session(service).request(
                method, self._base(service) + path, params=clean, json=json,
                auth=auth, headers=hdrs, stream=stream)
        except requests.RequestException as exc:
            UPSTREAM_ERRORS.labels(service, "unreachable").inc()
            log.warning("upstream_unreachable", service=service, path=path,
                        error=type(exc).__name__)
            raise ServiceDown(service) from exc
        finally:
            add_upstream(service, time.perf_counter() - started)
        if resp.status_code >= 500:
            UPSTREAM_ERRORS.labels(service, str(resp.status_code)).inc()
            log.warning("upstream_failed", service=service, path=path,
                        status=resp.status_code)
            raise ServiceDown(service)
        if resp.status_code >= 400:
            message, code, detail = _message(resp)
            retry = resp.headers.get("Retry-After")
            raise ApiError(resp.status_code, message, code,
                           int(retry) if retry and retry.isdigit() else None, detail)
        return resp

    def call(self, service: str, method: str, path: str, **kw: Any) -> Any:
        """One request; the decoded JSON body (None when empty)."""
        resp = self.raw(service, method, path, **kw)
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError as exc:
            raise ServiceDown(service) from exc

    def page(self, service: str, path: str, params: Mapping[str, Any] | None = None,
             key: str | None = None) -> Page:
        """A list request with Portus' pagination headers."""
        resp = self.raw(service, "GET", path, params=params)
        body = resp.json()
        items = body.get(key, []) if key and isinstance(body, dict) else body
        if not isinstance(items, list):
            items = []
        h = resp.headers
        return Page(items=items, page=int(h.get("X-Page", "1") or 1),
                    pages=int(h.get("X-Total-Pages", "1") or 1),
                    total=int(h.get("X-Total", str(len(items))) or 0),
                    per_page=int(h.get("X-Per-Page", "0") or 0),
                    capped=h.get("X-Total-Capped", "").lower() == "true")

    # -- token service: sessions, users, application tokens -------------------

    def login(self, username: str, password: str) -> TokenPair:
        """Exchange a password for an API JWT and a refresh token."""
        body = self.call("token", "POST", "/api/v1/auth/token",
                         auth=(username, password))
        return TokenPair(body["token"], int(body.get("expires_in", 300)),
                         body.get("refresh_token", ""))

    def refresh(self, refresh_token: str) -> TokenPair:
        """Renew the API JWT with the refresh grant."""
        body = self.call("token", "POST", "/api/v1/auth/token",
                         json={"grant_type": "refresh_token",
                               "refresh_token": refresh_token})
        return TokenPair(body["token"], int(body.get("expires_in", 300)),
                         body.get("refresh_token", refresh_token))

    def signup(self, username: str, email: str, password: str) -> Json:
        """Create an account (the token service allows it when sign-up is on)."""
        return self.call("token", "POST", "/api/v1/users", json={"user": {
            "username": username, "email": email, "password": password}})

    def users(self, page: int = 1, per_page: int = 20) -> Page:
        """Every user (admin)."""
        return self.page("token", "/api/v1/users",
                         {"page": page, "per_page": per_page})

    def user(self, user_id: int) -> Json:
        """One user."""
        return self.call("token", "GET", f"/api/v1/users/{user_id}")

    def create_user(self, fields: Json) -> Json:
        """Create a user or a bot (admin)."""
        return self.call("token", "POST", "/api/v1/users", json={"user": fields})

    def update_user(self, user_id: int, fields: Json) -> Json:
        """Change a user's fields (display name, password, enabled, admin)."""
        return self.call("token", "PUT", f"/api/v1/users/{user_id}",
                         json={"user": fields})

    def application_tokens(self, user_id: int) -> list[Json]:
        """A user's application tokens (never their values)."""
        return list(self.page("token", f"/api/v1/users/{user_id}/application_tokens"))

    def create_application_token(self, user_id: int, application: str) -> Json:
        """A new application token; its ``plain_token`` is shown once."""
        return self.call("token", "POST", f"/api/v1/users/{user_id}/application_tokens",
                         json={"application": application})

    def revoke_application_token(self, token_id: int) -> None:
        """Revoke one application token."""
        self.call("token", "DELETE", f"/api/v1/users/application_tokens/{token_id}")

    # -- catalog: repositories, tags, stars, comments -------------------------

    def repositories(self, **params: Any) -> Page:
        """Repositories the caller may see."""
        return self.page("catalog", "/api/v1/repositories", params)

    def repository(self, repo_id: int) -> Json:
        """One repository."""
        return self.call("catalog", "GET", f"/api/v1/repositories/{repo_id}")

    def update_repository(self, repo_id: int, fields: Json) -> Json:
        """Change a repository's description."""
        return self.call("catalog", "PUT", f"/api/v1/repositories/{repo_id}",
                         json={"repository": fields})

    def delete_repository(self, repo_id: int) -> None:
        """Delete a repository and its tags from the registry."""
        self.call("catalog", "DELETE", f"/api/v1/repositories/{repo_id}")

    def tags(self, repo_id: int) -> list[Json]:
        """A repository's tags."""
        return list(self.page("catalog", f"/api/v1/repositories/{repo_id}/tags",
                              {"all": "true"}))

    def delete_tag(self, tag_id: int) -> None:
        """Delete a tag (its manifest, so every tag sharing the digest)."""
        self.call("catalog", "DELETE", f"/api/v1/tags/{tag_id}")

    def star(self, repo_id: int) -> None:
        """Star a repository."""
        self.call("catalog", "POST", f"/api/v1/repositories/{repo_id}/stars")

    def unstar(self, repo_id: int) -> None:
        """Remove the caller's star."""
        self.call("catalog", "DELETE", f"/api/v1/repositories/{repo_id}/stars")

    def starred(self, **params: Any) -> Page:
        """Repositories the caller starred."""
        return self.page("catalog", "/api/v1/stars", params)

    def comments(self, repo_id: int) -> list[Json]:
        """Comments on a repository (``body_md`` is sanitised HTML)."""
        return list(self.page("catalog", f"/api/v1/repositories/{repo_id}/comments",
                              {"all": "true"}))

    def add_comment(self, repo_id: int, body: str) -> Json:
        """Comment on a repository."""
        return self.call("catalog", "POST", f"/api/v1/repositories/{repo_id}/comments",
                         json={"comment": {"body": body}})

    def delete_comment(self, repo_id: int, comment_id: int) -> None:
        """Delete a comment (author or admin)."""
        self.call("catalog", "DELETE",
                  f"/api/v1/repositories/{repo_id}/comments/{comment_id}")

    def search(self, q: str, page: int = 1, per_page: int = 20) -> Json:
        """Repositories, namespaces and teams matching ``q`` that I may see."""
        body = self.call("catalog", "GET", "/api/v1/search",
                         params={"q": q, "page": page, "per_page": per_page})
        return body if isinstance(body, dict) else {}

    def explain(self, scope: str) -> Json:
        """Why each action of ``scope`` is allowed or not, for the caller."""
        return self.call("catalog", "GET", "/api/v1/authorize/explain",
                         params={"scope": scope})

    # -- catalog: namespaces, teams, registries --------------------------------

    def namespaces(self, **params: Any) -> Page:
        """Namespaces the caller may see."""
        return self.page("catalog", "/api/v1/namespaces", params)

    def namespace(self, ns_id: int) -> Json:
        """One namespace."""
        return self.call("catalog", "GET", f"/api/v1/namespaces/{ns_id}")

    def namespace_repositories(self, ns_id: int, **params: Any) -> Page:
        """A namespace's repositories."""
        return self.page("catalog", f"/api/v1/namespaces/{ns_id}/repositories", params)

    def create_namespace(self, name: str, team: str, description: str) -> Json:
        """A new namespace owned by ``team``."""
        return self.call("catalog", "POST", "/api/v1/namespaces", json={
            "name": name, "team": team, "description": description})

    def update_namespace(self, ns_id: int, fields: Json) -> Json:
        """Change visibility, description or owning team."""
        return self.call("catalog", "PUT", f"/api/v1/namespaces/{ns_id}",
                         json={"namespace": fields})

    def teams(self, **params: Any) -> Page:
        """Teams the caller may see."""
        return self.page("catalog", "/api/v1/teams", params)

    def team(self, team_id: int) -> Json:
        """One team."""
        return self.call("catalog", "GET", f"/api/v1/teams/{team_id}")

    def create_team(self, name: str, description: str) -> Json:
        """A new team owned by the caller."""
        return self.call("catalog", "POST", "/api/v1/teams",
                         json={"name": name, "description": description})

    def team_members(self, team_id: int) -> list[Json]:
        """A team's members and roles."""
        return list(self.page("catalog", f"/api/v1/teams/{team_id}/members",
                              {"all": "true"}))

    def team_namespaces(self, team_id: int) -> list[Json]:
        """Namespaces a team owns."""
        return list(self.page("catalog", f"/api/v1/teams/{team_id}/namespaces",
                              {"all": "true"}))

    def add_member(self, team_id: int, user: str, role: str) -> Json:
        """Add a user to a team."""
        return self.call("catalog", "POST", f"/api/v1/teams/{team_id}/members",
                         json={"user": user, "role": role})

    def change_member(self, team_id: int, member_id: int, role: str) -> Json:
        """Change a member's role."""
        return self.call("catalog", "PUT", f"/api/v1/teams/{team_id}/members/{member_id}",
                         json={"role": role})

    def remove_member(self, team_id: int, member_id: int) -> None:
        """Remove a member."""
        self.call("catalog", "DELETE", f"/api/v1/teams/{team_id}/members/{member_id}")

    def registries(self) -> list[Json]:
        """Registries (admin)."""
        return list(self.page("catalog", "/api/v1/registries"))

    def create_registry(self, fields: Json) -> Json:
        """A new registry (admin)."""
        return self.call("catalog", "POST", "/api/v1/registries",
                         json={"registry": fields})

    # -- audit and syncer -------------------------------------------------------

    def audit_events(self, **params: Any) -> Page:
        """Audit records the caller may see, newest first."""
        return self.page("audit", "/api/v1/audit/events", params)

    def audit_verify(self) -> Json:
        """Walk the audit chain (admin)."""
        return self.call("audit", "GET", "/api/v1/audit/verify")

    def audit_export(self, fmt: str, params: Mapping[str, Any]) -> requests.Response:
        """The audit log as CSV or JSON Lines (admin)."""
        return self.raw("audit", "GET", "/api/v1/audit/export",
                        params={**params, "format": fmt}, stream=True)

    def sync_runs(self, per_page: int = 20) -> Page:
        """The last reconcile runs, newest first (admin)."""
        return self.page("syncer", "/api/v1/sync", {"per_page": per_page})

    def sync_now(self) -> Any:
        """Start a reconcile now (admin)."""
        return self.call("syncer", "POST", "/api/v1/sync")

    def scan_summaries(self, digests: list[str]) -> dict[str, Json]:
        """Scan status and severity counts per digest (internal call: the digests
        come from tags the catalog already showed this user)."""
        if not digests:
            return {}
        body = self.call("syncer", "GET", "/internal/v1/scans",
                         params={"digest": digests[:200]},
                         headers={INTERNAL_HEADER: self.settings.internal_secret})
        scans = body.get("scans") if isinstance(body, dict) else None
        return scans if isinstance(scans, dict) else {}

    def vulnerabilities(self, tag_id: int) -> Json:
        """A tag's scan: status, counts and every vulnerability."""
        return self.call("syncer", "GET", f"/api/v1/tags/{tag_id}/vulnerabilities")

    def rescan(self, tag_id: int) -> Json:
        """Scan a tag's image again (admin)."""
        return self.call("syncer", "POST", f"/api/v1/vulnerabilities/{tag_id}")

    # -- catalog: webhooks of a namespace ----------------------------------------

    def _hooks(self, ns_id: int, suffix: str = "") -> str:
        return f"/api/v1/namespaces/{ns_id}/webhooks{suffix}"

    def webhooks(self, ns_id: int, **params: Any) -> Page:
        """A namespace's webhooks (members and admins)."""
        return self.page("catalog", self._hooks(ns_id), params)

    def webhook(self, ns_id: int, hook_id: int) -> Json:
        """One webhook with its headers."""
        return self.call("catalog", "GET", self._hooks(ns_id, f"/{hook_id}"))

    def create_webhook(self, ns_id: int, fields: Json) -> Json:
        """A new webhook; the answer holds its signing secret, shown once."""
        return self.call("catalog", "POST", self._hooks(ns_id),
                         json={"webhook": fields})

    def update_webhook(self, ns_id: int, hook_id: int, fields: Json) -> Json:
        """Change a webhook's fields."""
        return self.call("catalog", "PUT", self._hooks(ns_id, f"/{hook_id}"),
                         json={"webhook": fields})

    def toggle_webhook(self, ns_id: int, hook_id: int) -> Json:
        """Enable or disable a webhook."""
        return self.call("catalog", "PUT",
                         self._hooks(ns_id, f"/{hook_id}/toggle_enabled"))

    def delete_webhook(self, ns_id: int, hook_id: int) -> None:
        """Remove a webhook and its delivery log."""
        self.call("catalog", "DELETE", self._hooks(ns_id, f"/{hook_id}"))

    def add_webhook_header(self, ns_id: int, hook_id: int, name: str,
                           value: str) -> Json:
        """A custom header sent with every delivery."""
        return self.call("catalog", "POST", self._hooks(ns_id, f"/{hook_id}/headers"),
                         json={"webhook_header": {"name": name, "value": value}})

    def remove_webhook_header(self, ns_id: int, hook_id: int, header_id: int) -> None:
        """Stop sending a custom header."""
        self.call("catalog", "DELETE",
                  self._hooks(ns_id, f"/{hook_id}/headers/{header_id}"))

    def webhook_deliveries(self, ns_id: int, hook_id: int, **params: Any) -> Page:
        """A webhook's delivery log, newest first."""
        return self.page("catalog", self._hooks(ns_id, f"/{hook_id}/deliveries"),
                         params)

    def webhook_delivery(self, ns_id: int, hook_id: int, delivery_id: int) -> Json:
        """One delivery with every attempt."""
        return self.call("catalog", "GET",
                         self._hooks(ns_id, f"/{hook_id}/deliveries/{delivery_id}"))

    def resend_webhook_delivery(self, ns_id: int, hook_id: int,
                                delivery_id: int) -> Json:
        """Send a delivery's body again."""
        return self.call("catalog", "PUT",
                         self._hooks(ns_id, f"/{hook_id}/deliveries/{delivery_id}"))

    def health(self, service: str) -> tuple[bool, Json]:
        """A service's health report (never raises)."""
        try:
            resp = self._session(service).get(self._base(service) + "/api/v1/health",
                                              timeout=(1.0, 3.0))
            body = resp.json() if resp.content else {}
            return resp.status_code == 200, body if isinstance(body, dict) else {}
        except (requests.RequestException, ValueError):
            return False, {}
