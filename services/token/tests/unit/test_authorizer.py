"""CatalogAuthorizer over real HTTP (a stand-in catalog on loopback)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from berth.common.auth import ANONYMOUS, Principal
from berth.common.errors import Unavailable
from berth.common.testing import free_port
from berth.token.services.authorizer import CatalogAuthorizer
from berth.token.services.scopes import Scope

ASKED = [Scope("repository", "alice/app", ("pull", "push")),
         Scope("registry", "catalog", ("*",))]


class Catalog:
    def __init__(self) -> None:
        self.status = 200
        self.answer: Any = None
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []


@pytest.fixture
def catalog() -> Iterator[tuple[Catalog, str]]:
    state = Catalog()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append((dict(self.headers), body))
            raw = json.dumps(state.answer).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_sends_principal_service_and_scopes_with_the_secret(catalog) -> None:
    state, url = catalog
    state.answer = {"scopes": [{"type": "repository", "name": "alice/app",
                                "actions": ["pull"]},
                               {"type": "registry", "name": "catalog", "actions": []}]}
    alice = Principal(id=3, username="alice")
    granted = CatalogAuthorizer(url, "s3cret").authorize(alice, "reg", ASKED)
    assert [g.actions for g in granted] == [("pull",), ()]
    headers, body = state.requests[0]
    assert headers["X-Berth-Internal"] == "s3cret"
    assert body == {"principal": {"id": 3, "username": "alice", "admin": False,
                                  "kind": "user"}, "service": "reg",
                    "scopes": [{"type": "repository", "class": None, "name": "alice/app",
                                "actions": ["pull", "push"]},
                               {"type": "registry", "class": None, "name": "catalog",
                                "actions": ["*"]}]}


def test_never_grants_more_than_asked(catalog) -> None:
    state, url = catalog
    state.answer = {"scopes": [
        {"type": "repository", "name": "alice/app", "actions": ["pull", "push", "delete"]},
        {"type": "registry", "name": "catalog", "actions": ["*"]}]}
    granted = CatalogAuthorizer(url, "s").authorize(ANONYMOUS, "reg", ASKED)
    assert granted[0].actions == ("pull", "push")


@pytest.mark.parametrize(("status", "answer"), [
    (500, {"message": "boom"}),
    (401, {"message": "no"}),
    (200, {"scopes": []}),
    (200, {"scopes": [{"type": "repository", "name": "other", "actions": ["pull"]},
                      {"type": "registry", "name": "catalog", "actions": []}]}),
    (200, {"scopes": [{"type": "repository", "name": "alice/app", "actions": "pull"},
                      {"type": "registry", "name": "catalog", "actions": []}]}),
    (200, ["not", "an", "object"]),
])
def test_anything_but_a_matching_answer_is_unavailable(catalog, status, answer) -> None:
    state, url = catalog
    state.status, state.answer = status, answer
    with pytest.raises(Unavailable):
        CatalogAuthorizer(url, "s").authorize(ANONYMOUS, "reg", ASKED)


def test_a_scope_the_catalog_refuses_is_a_bad_request(catalog) -> None:
    from berth.common.errors import BadRequest

    state, url = catalog
    state.status, state.answer = 400, {"message": "invalid repository name"}
    with pytest.raises(BadRequest) as err:
        CatalogAuthorizer(url, "s").authorize(ANONYMOUS, "reg", ASKED)
    assert err.value.code == "SCOPE_INVALID"


def test_unreachable_catalog_is_unavailable() -> None:
    authorizer = CatalogAuthorizer(f"http://127.0.0.1:{free_port()}", "s", timeout=1)
    with pytest.raises(Unavailable):
        authorizer.authorize(ANONYMOUS, "reg", ASKED)


class CountingAuthorizer:
    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail

    def authorize(self, principal: Principal, service: str,
                  scopes: list[Scope]) -> list[Scope]:
        self.calls += 1
        if self.fail:
            raise Unavailable("down")
        return [Scope(s.type, s.name, ("pull",)) for s in scopes]


def test_cache_reuses_an_answer_for_the_same_question_only() -> None:
    from berth.token.services.authorizer import CachedAuthorizer

    inner = CountingAuthorizer()
    cached = CachedAuthorizer(inner, ttl=60)
    alice = Principal(id=1, username="alice")
    first = cached.authorize(alice, "reg", ASKED)
    assert cached.authorize(alice, "reg", ASKED) == first and inner.calls == 1
    cached.authorize(Principal(id=1, username="alice", admin=True), "reg", ASKED)
    cached.authorize(alice, "other-registry", ASKED)
    cached.authorize(alice, "reg", ASKED[:1])
    cached.authorize(ANONYMOUS, "reg", ASKED)
    assert inner.calls == 5


def test_cache_expires_and_never_keeps_errors() -> None:
    from berth.token.services.authorizer import CachedAuthorizer

    inner = CountingAuthorizer()
    expired = CachedAuthorizer(inner, ttl=0.0)
    expired.authorize(ANONYMOUS, "reg", ASKED)
    expired.authorize(ANONYMOUS, "reg", ASKED)
    assert inner.calls == 2
    failing = CachedAuthorizer(CountingAuthorizer(fail=True), ttl=60)
    for _ in range(2):
        with pytest.raises(Unavailable):
            failing.authorize(ANONYMOUS, "reg", ASKED)
    assert failing.inner.calls == 2  # type: ignore[attr-defined]


def _asks_timed() -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("berth_token_authorize_duration_seconds_count") or 0


def test_only_round_trips_to_the_catalog_are_timed(catalog) -> None:
    from berth.token.services.authorizer import CachedAuthorizer

    state, url = catalog
    state.answer = {"scopes": [{"type": s.type, "name": s.name, "actions": ["pull"]}
                               for s in ASKED]}
    cached = CachedAuthorizer(CatalogAuthorizer(url, "s"), ttl=60)
    before = _asks_timed()
    alice = Principal(id=1, username="alice")
    for _ in range(3):
        cached.authorize(alice, "reg", ASKED)
    assert len(state.requests) == 1 and _asks_timed() == before + 1
    with pytest.raises(Unavailable):
        CatalogAuthorizer(f"http://127.0.0.1:{free_port()}", "s").authorize(
            alice, "reg", ASKED)
    assert _asks_timed() == before + 2
