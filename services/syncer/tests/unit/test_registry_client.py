"""The registry client's contract: challenges, errors, pagination, token cache."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from berth.common.http import make_session
from berth.common.testing import free_port
from berth.syncer.registry_client import (
    PING_TIMEOUT,
    RegistryClient,
    RegistryDenied,
    RegistryNotFound,
    RegistryUnavailable,
    TokenCache,
    parse_challenge,
)
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@pytest.mark.parametrize("header,expected", [
    ('Bearer realm="http://t/v2/token",service="reg",scope="registry:catalog:*"',
     {"realm": "http://t/v2/token", "service": "reg", "scope": "registry:catalog:*"}),
    ('bearer realm="http://t"', {"realm": "http://t"}),
    ('Basic realm="x"', None),
    ("Bearer", None),
    ("", None),
])
def test_parse_challenge(header, expected):
    assert parse_challenge(header) == expected


class Fake:
    """A programmable registry + token endpoint on 127.0.0.1."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.token_calls = 0
        self.token_body = '{"token": "t1", "expires_in": 300}'
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = Request(environ)
        resp = self.route(req)
        return resp(environ, start_response)

    def route(self, req: Request) -> Response:
        if req.path == "/token":
            self.token_calls += 1
            if req.headers.get("X-Berth-Internal") != "isecret":
                return Response("", 401)
            return Response(self.token_body, 200, content_type="application/json")
        if req.headers.get("Authorization") != "Bearer t1":
            challenge = (f'Bearer realm="{self.base}/token",service="reg",'
                         'scope="registry:catalog:*"')
            return Response("", 401, {"WWW-Authenticate": challenge})
        if req.path == "/v2/_catalog":
            if req.args.get("last") == "b":
                return Response('{"repositories": ["c"]}', 200)
            # An absolute Link, as some registries send.
            link = f'<{self.base}/v2/_catalog?last=b&n=2>; rel="next"'
            return Response('{"repositories": ["a", "b"]}', 200, {"Link": link})
        if req.path == "/v2/broken/tags/list":
            return Response("oops", 500)
        if req.path == "/v2/garbage/tags/list":
            return Response("<html>", 200)
        if req.path == "/v2/missing/tags/list":
            return Response('{"errors": [{"code": "NAME_UNKNOWN"}]}', 404)
        return Response("", 404)


@pytest.fixture
def fake() -> Iterator[Fake]:
    f = Fake()
    t = threading.Thread(target=f.server.serve_forever, daemon=True)
    t.start()
    yield f
    f.server.shutdown()


def client(fake: Fake, secret: str = "isecret") -> RegistryClient:
    tokens = TokenCache(secret, make_session(retries=0))
    return RegistryClient(fake.base, tokens=tokens, page_size=2, timeout=5)


def test_catalog_follows_links_with_one_token(fake):
    c = client(fake)
    assert [name for page in c.catalog() for name in page] == ["a", "b", "c"]
    assert list(c.catalog())  # again: the cached token is sent straight away
    assert fake.token_calls == 1


def test_errors_are_classified(fake):
    c = client(fake)
    with pytest.raises(RegistryUnavailable):
        list(c.tags("broken"))
    with pytest.raises(RegistryUnavailable):
        list(c.tags("garbage"))
    with pytest.raises(RegistryNotFound):
        list(c.tags("missing"))


def test_a_refused_service_token_is_denied_not_unavailable(fake):
    with pytest.raises(RegistryDenied):
        list(client(fake, secret="wrong").catalog())


def test_a_garbled_token_answer_is_denied(fake):
    fake.token_body = "not json"
    with pytest.raises(RegistryDenied):
        list(client(fake).catalog())


def test_a_hung_registry_fails_the_ping_within_one_short_timeout():
    # A listening socket nobody accepts from: connects, never answers.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)
        port = hung.getsockname()[1]
        c = RegistryClient(f"http://127.0.0.1:{port}",
                           tokens=TokenCache("x", make_session(retries=0)))
        started = time.monotonic()
        with pytest.raises(RegistryUnavailable):
            c.ping()
        # Was a 5 s read timeout tried twice: longer than a health probe waits.
        assert time.monotonic() - started < sum(PING_TIMEOUT) + 1


def test_a_hung_registry_fails_a_delete_within_one_operation_timeout():
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)
        port = hung.getsockname()[1]
        c = RegistryClient(f"http://127.0.0.1:{port}", operation_timeout=1.0,
                           tokens=TokenCache("x", make_session(retries=0)))
        started = time.monotonic()
        with pytest.raises(RegistryUnavailable):
            c.delete_manifest("ns/repo", "sha256:" + "0" * 64)
        # Was the 30 s listing timeout, retried: past the worker's 60 s limit.
        assert time.monotonic() - started < 2


def test_an_unreachable_registry_is_unavailable():
    c = RegistryClient(f"http://127.0.0.1:{free_port()}",
                       tokens=TokenCache("x", make_session(retries=0)), timeout=1)
    with pytest.raises(RegistryUnavailable):
        c.ping()
    with pytest.raises(RegistryUnavailable):
        list(c.catalog())


def test_the_environment_is_read_once_not_on_every_call(fake, monkeypatch):
    import requests.sessions
    import requests.utils

    looked_up: list[str] = []  # URLs whose proxies or netrc entry were read
    real_netrc, real_proxies = requests.utils.get_netrc_auth, \
        requests.utils.get_environ_proxies

    def netrc(url: str, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(url)
        return real_netrc(url, *args, **kwargs)

    def proxies(url: str, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(url)
        return real_proxies(url, *args, **kwargs)

    for module in (requests.utils, requests.sessions):
        monkeypatch.setattr(module, "get_netrc_auth", netrc, raising=False)
        monkeypatch.setattr(module, "get_environ_proxies", proxies, raising=False)
    c = client(fake)
    for _ in range(3):
        assert [n for page in c.catalog() for n in page] == ["a", "b", "c"]
    # Once per session at start (the token service's own session aside).
    assert [u for u in looked_up if "/token" not in u] == [fake.base] * 4


def test_a_proxy_from_the_environment_is_still_used(fake, monkeypatch):
    # The registry's name does not resolve: only the proxy (the fake, which
    # answers absolute-URI requests) can reach it.
    monkeypatch.setenv("HTTP_PROXY", fake.base)
    monkeypatch.setenv("NO_PROXY", "")
    tokens = TokenCache("isecret", make_session(retries=0))
    c = RegistryClient("http://registry.invalid:5000", tokens=tokens, page_size=2,
                       timeout=5)
    assert next(iter(c.catalog())) == ["a", "b"]


def test_no_proxy_keeps_the_registry_direct(fake, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nobody listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert [n for page in client(fake).catalog() for n in page] == ["a", "b", "c"]
