"""Path tricks through the ingress (nginx of the running stack): no spelling of
an internal, metrics or notification path reaches its service, and no
spelling of ``/v2/_catalog`` lists repositories to an anonymous caller.

Requests go out byte for byte with ``http.client`` (requests/urllib3 would
normalise dot segments and slashes before sending)."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest

from tests.e2e.support.stack import RunningStack

INTERNAL = ["/internal/v1/registries", "/Internal/v1/registries",
            "/INTERNAL/v1/registries", "/%69nternal/v1/registries",
            "/internal%2Fv1/registries", "/internal/v1%2Fregistries",
            "//internal/v1/registries", "/./internal/v1/registries",
            "/api/../internal/v1/registries", "/api/%2e%2e/internal/v1/registries",
            "/api/v1/../../internal/v1/authorize", "/api/v1/..%2F..%2Finternal/v1/authorize",
            "/v2/%2e%2e/internal/v1/registries", "/v2/../internal/v1/registries",
            "/api/v1/users/../../../internal/v1/principal",
            "/api/v1/vulnerabilities/../../../internal/v1/scans",
            "/internal/v1/users?username=admin", "/internal/v1/registries/",
            "/internal/v1/registries;x=1", "/internal/v1/registries%00",
            # nginx matches the decoded path but proxies the raw one: neither
            # spelling may land on an internal route of an upstream
            "/api/v1/x%2F..%2F..%2F..%2Finternal/v1/registries",
            "/api/v1/sync%2F..%2F..%2F..%2Finternal/v1/manifests/delete",
            "/api/v1/users%2F..%2F..%2F..%2Finternal/v1/principal",
            "/api/v1/tags/1/sbom%2F..%2F..%2F..%2F..%2F..%2Finternal/v1/scans"]
METRICS = ["/metrics", "/metrics/", "//metrics", "/%6detrics", "/metrics?x=1",
           "/./metrics", "/api/../metrics", "/METRICS", "/metrics;x",
           "/api/v1/sync/../../../metrics", "/api/v1/users/../../metrics"]
WEBHOOKS = ["/v2/webhooks/events", "/v2/webhooks/events/", "//v2/webhooks/events",
            "/v2/webhooks/%65vents", "/v2//webhooks/events", "/v2/webhooks/./events",
            "/v2/x/../webhooks/events", "/v2/webhooks/events?x=1",
            "/v2/%77ebhooks/events", "/api/v1/sync/../../../v2/webhooks/events",
            "/api/v1/sync%2F..%2F..%2F..%2Fv2/webhooks/events",
            "/v2/webhooks%2Fevents"]
CATALOG = ["/v2/_catalog", "/v2/_catalog/", "//v2/_catalog", "/v2//_catalog",
           "/v2/%5fcatalog", "/v2/_catalog?n=100", "/v2/./_catalog",
           "/api/../v2/_catalog", "/v2/a%2Fb/tags/list", "/v2/a/b/tags/list",
           "/v2/library%2F..%2F_catalog"]


def raw(stack: RunningStack, method: str, path: str, body: bytes | None = None,
        headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One request with exactly this request target (a redirect's status and
    body come back as they are; the test checks where it points)."""
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        location = resp.getheader("Location") or ""
        if resp.status in (301, 302, 307, 308):
            # the registry redirects "/v2/_catalog/" to "/v2/_catalog": fine as
            # long as it stays on this origin (the follow-up is tested as such)
            assert location.startswith("/") and not location.startswith("//"), \
                location
        return resp.status, resp.read()
    finally:
        conn.close()


def service_answered(body: bytes) -> bool:
    """True when a Berth service (not the ingress) produced ``body``."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and bool({"registries", "principal", "scans",
                                            "scopes", "username"} & set(data))


@pytest.mark.parametrize("path", INTERNAL)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_internal_endpoints_are_never_routed(stack: RunningStack, method: str,
                                             path: str) -> None:
    status, body = raw(stack, method, path, body=b"{}" if method == "POST" else None,
                       headers={"X-Berth-Internal": "guess",
                                "Content-Type": "application/json"})
    # nginx's own 404/400 (HTML), or the web UI's page: never a service's
    # internal endpoint, which would answer JSON (401 without the secret).
    assert status in (400, 404), (status, body[:200])
    assert not service_answered(body), body[:300]


@pytest.mark.parametrize("path", METRICS)
def test_metrics_are_never_routed(stack: RunningStack, path: str) -> None:
    status, body = raw(stack, "GET", path)
    assert status in (400, 404), (status, body[:200])
    assert b"# TYPE" not in body and b"_total" not in body


@pytest.mark.parametrize("path", WEBHOOKS)
def test_the_notification_endpoint_is_never_routed(stack: RunningStack,
                                                   path: str) -> None:
    envelope = json.dumps({"events": [{
        "id": "forged-through-ingress", "action": "push", "target": {
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "digest": "sha256:" + "a" * 64, "repository": "forged/repo",
            "tag": "evil", "length": 1}}]}).encode()
    status, body = raw(stack, "POST", path, body=envelope, headers={
        "Content-Type": "application/vnd.docker.distribution.events.v1+json",
        "Authorization": "Bearer guess"})
    # 404 from nginx or from the registry's /v2/ router (or its 401 asking for a
    # token): never the syncer's 401/202.
    assert status in (400, 401, 404, 405), (status, body[:200])
    assert not (body.lstrip().startswith(b"{") and b"\"message\"" in body), body[:300]


@pytest.mark.parametrize("path", CATALOG)
def test_anonymous_callers_never_list_the_catalog(stack: RunningStack,
                                                  path: str) -> None:
    status, body = raw(stack, "GET", path)
    assert status in (301, 400, 401, 404), (status, body[:200])
    assert b"repositories" not in body


@pytest.mark.parametrize("path", CATALOG[:7])
def test_an_anonymous_token_never_lists_the_catalog(stack: RunningStack,
                                                    path: str) -> None:
    resp = stack.api("GET", "/v2/token", params={
        "service": stack_service(stack), "scope": "registry:catalog:*"})
    assert resp.status_code == 200, resp.text
    token = resp.json()["token"]
    status, body = raw(stack, "GET", path, headers={"Authorization": f"Bearer {token}"})
    assert status in (301, 400, 401, 404), (status, body[:200])
    assert b"repositories" not in body


def stack_service(stack: RunningStack) -> str:
    """The registry's service name, from its challenge."""
    resp = stack.api("GET", "/v2/")
    challenge = resp.headers["WWW-Authenticate"]
    return challenge.split('service="', 1)[1].split('"', 1)[0]
