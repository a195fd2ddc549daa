"""Asking the catalog what a user may see: parsing, caching, and failing with
503 rather than showing a narrower list when the catalog cannot answer."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask.testing import FlaskClient

from berth.audit.app import create_app
from berth.audit.config import AuditConfig
from berth.audit.errors import CatalogUnavailable
from berth.audit.memberships import NOTHING, CatalogMemberships, Scope
from berth.common.auth import Authenticator, JwksKeys
from berth.common.runtime import Runtime
from berth.common.signing import Signer

SECRET = "internal-test-secret"
ANSWER = {"user_id": 6, "admin": False,
          "namespaces": [{"id": 10, "name": "devs", "registry": "reg", "global": False},
                         {"id": 1, "name": "~reg", "registry": "reg", "global": True}],
          "teams": [{"id": 20, "name": "devs-team"}]}


class FakeCatalog:
    """A real HTTP server answering ``/internal/v1/visibility`` as told."""

    def __init__(self) -> None:
        self.status = 200
        self.body: Any = ANSWER
        self.calls: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.calls.append({"path": self.path, "secret": self.headers.get(
                    "X-Berth-Internal", "")})
                raw = json.dumps(outer.body).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def catalog() -> Iterator[FakeCatalog]:
    server = FakeCatalog()
    yield server
    server.close()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_answer_becomes_a_scope(catalog: FakeCatalog) -> None:
    scope = CatalogMemberships(catalog.url, SECRET).scope_for(6)
    assert scope == Scope(namespaces={"reg": frozenset({"devs"})},
                          namespace_ids=frozenset({10, 1}),
                          global_registries=frozenset({"reg"}),
                          team_ids=frozenset({20}))
    assert catalog.calls == [{"path": "/internal/v1/visibility?user_id=6",
                              "secret": SECRET}]


def test_answers_are_kept_for_the_ttl_per_user(catalog: FakeCatalog) -> None:
    clock = Clock()
    members = CatalogMemberships(catalog.url, SECRET, ttl=5, clock=clock)
    members.scope_for(6)
    members.scope_for(6)
    assert len(catalog.calls) == 1
    members.scope_for(7)
    assert len(catalog.calls) == 2
    clock.now += 5.1
    members.scope_for(6)
    assert len(catalog.calls) == 3


def test_an_unknown_user_has_nothing_but_their_own(catalog: FakeCatalog) -> None:
    catalog.status = 404
    catalog.body = {"message": "user not found",
                    "errors": [{"code": "USER_UNKNOWN", "message": "", "detail": {}}]}
    assert CatalogMemberships(catalog.url, SECRET).scope_for(6) == NOTHING


@pytest.mark.parametrize(("status", "body"), [
    (404, {"message": "no such route", "errors": [{"code": "NOT_FOUND"}]}),
    (401, {"message": "no", "errors": [{"code": "UNAUTHORIZED"}]}),
    (500, {"message": "boom"}),
    (200, {"namespaces": "everything"}),
    (200, {"namespaces": [{"id": "10", "name": "devs", "registry": "r"}],
           "teams": []}),
    (200, ["not", "an", "object"]),
])
def test_a_catalog_that_cannot_answer_is_unavailable(
        catalog: FakeCatalog, status: int, body: Any) -> None:
    catalog.status, catalog.body = status, body
    with pytest.raises(CatalogUnavailable):
        CatalogMemberships(catalog.url, SECRET).scope_for(6)


def test_an_unreachable_catalog_is_unavailable_and_not_cached() -> None:
    members = CatalogMemberships(f"http://127.0.0.1:{_closed_port()}", SECRET)
    for _ in range(2):
        with pytest.raises(CatalogUnavailable):
            members.scope_for(6)


@pytest.fixture
def live_client(config: AuditConfig, runtime: Runtime, signer: Signer,
                catalog: FakeCatalog) -> FlaskClient:
    """The app asking the fake catalog over HTTP, as in production."""
    auth = Authenticator(keys=JwksKeys(static=signer.public_keys()), credentials=None,
                         internal_secret=SECRET, issuer="berth-test")
    members = CatalogMemberships(catalog.url, SECRET, ttl=0.001)
    return create_app(config, authenticator=auth, runtime=runtime,
                      memberships=members).test_client()


def test_the_api_uses_the_catalogs_answer(live_client: FlaskClient, auth: Any,
                                          record: Callable[..., Any]) -> None:
    seen = record("registry.manifest.pushed", {"registry": "reg",
                                               "repository": "devs/app",
                                               "digest": "sha256:1", "actor": "carol"})
    hidden = record("registry.manifest.pushed", {"registry": "reg",
                                                 "repository": "secret/app",
                                                 "digest": "sha256:2",
                                                 "actor": "carol"})
    resp = live_client.get("/api/v1/audit", headers=auth("dave", uid=6))
    assert resp.status_code == 200
    ids = {r["id"] for r in resp.get_json()}
    assert seen.id in ids and hidden.id not in ids


@pytest.mark.parametrize("path", ["/api/v1/audit", "/api/v1/audit/1",
                                  "/api/v1/audit/export?format=jsonl"])
def test_the_api_answers_503_when_the_catalog_cannot_say(
        live_client: FlaskClient, auth: Any, catalog: FakeCatalog,
        record: Callable[..., Any], path: str) -> None:
    record("identity.login.failed", {"username": "dave", "reason": "bad_credentials"})
    catalog.status, catalog.body = 500, {"message": "boom"}
    resp = live_client.get(path, headers=auth("dave", uid=6))
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["message"] and body["errors"][0]["code"] == "CATALOG_UNAVAILABLE"
    admin = live_client.get(path, headers=auth("root", uid=1, admin=True))
    assert admin.status_code == 200       # admins need no catalog answer
