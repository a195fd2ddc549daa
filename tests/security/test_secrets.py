"""Secrets never leak: passwords, application tokens, refresh tokens, JWTs,
the internal secret and private key material appear in no log line (the
services' structlog JSON and the standard library's records), no error body
and no event the outbox hands to the bus (the audit log's details)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from berth.common.logging import configure_logging
from berth.common.signing import private_key_pem

from tests.security.conftest import INTERNAL, REGISTRY, Berth, basic

PASSWORD = "Dave-Pa55word-never-logged"
WRONG = "Wrong-Pa55word-never-logged"


class Capture:
    """Every log line of this process while a test runs, at DEBUG."""

    def __init__(self) -> None:
        self.structured = io.StringIO()
        self.records: list[str] = []

    def attach(self) -> None:
        """(Again) route structlog here: every app factory reconfigures it.
        The services' own processors (redaction included), nothing filtered
        out by level."""
        configure_logging("security", "DEBUG")
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(self.structured))

    def text(self) -> str:
        return self.structured.getvalue() + "\n".join(self.records)


class _Handler(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage() + " " + repr(record.args))


@pytest.fixture
def logs() -> Iterator[Capture]:
    cap = Capture()
    cap.attach()
    handler = _Handler(cap.records)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield cap
    root.removeHandler(handler)
    root.setLevel(old_level)
    configure_logging("security", "WARNING")


def fragments(secret: str) -> list[str]:
    """``secret`` and the parts of it that would give it away."""
    parts = [secret]
    if secret.count(".") == 2:  # a JWT: its signature alone is a leak too
        parts.append(secret.rsplit(".", 1)[1])
    return parts


def assert_nowhere(berth: Berth, logs: Capture, secrets: list[str],
                   bodies: list[str]) -> None:
    text = logs.text()
    assert text, "nothing was logged: the capture is broken"
    events = json.dumps([e.to_json() if hasattr(e, "to_json") else str(e)
                         for e in berth.token_bus.published + berth.catalog_bus.published])
    for secret in secrets:
        for part in fragments(secret):
            assert part not in text, f"{part[:12]}... in the logs"
            assert part not in events, f"{part[:12]}... in an event"
            for body in bodies:
                assert part not in body, f"{part[:12]}... in an error body"


@pytest.fixture(scope="module")
def key_material(berth: Berth) -> list[str]:
    pem = private_key_pem(berth.signer.current.key).decode()
    lines = [ln for ln in pem.splitlines() if ln and not ln.startswith("-----")]
    return [INTERNAL, *lines[1:4]]


def test_sign_up_login_tokens_and_refresh_leak_nothing(berth: Berth, logs: Capture,
                                                       key_material: list[str]) -> None:
    user = berth.token_call("POST", "/api/v1/users", json={"user": {
        "username": "dave", "email": "dave@example.test", "password": PASSWORD}})
    assert user.status_code == 201, user.text
    bad = [berth.token_call("POST", "/api/v1/auth/token", headers=basic("dave", WRONG)),
           berth.token_call("POST", "/api/v1/auth/token", json={
               "grant_type": "password", "username": "dave", "password": WRONG}),
           berth.token_call("POST", "/api/v1/auth/token",
                            headers=basic("nobody-at-all", WRONG))]
    assert [r.status_code for r in bad] == [401, 401, 401]
    pair = berth.token_call("POST", "/api/v1/auth/token",
                            headers=basic("dave", PASSWORD)).json()
    api_jwt, refresh = pair["token"], pair["refresh_token"]
    auth = {"Authorization": f"Bearer {api_jwt}"}
    app_token = berth.token_call(
        "POST", f"/api/v1/users/{user.json()['id']}/application_tokens",
        headers=auth, json={"application": "ci"}).json()["plain_token"]
    renewed = berth.token_call("POST", "/api/v1/auth/token", json={
        "grant_type": "refresh_token", "refresh_token": refresh}).json()
    # the spent refresh token again, a forged one, a JWT as a refresh token
    bad += [berth.token_call("POST", "/api/v1/auth/token", json={
        "grant_type": "refresh_token", "refresh_token": value})
        for value in (refresh, refresh[:-2] + "xx", api_jwt)]
    assert [r.status_code for r in bad[3:]] == [401, 401, 401]
    # registry tokens with the password, the application token, and a refresh
    registry = berth.token_call("GET", "/v2/token", params={
        "service": REGISTRY, "scope": "repository:dave/app:push,pull",
        "offline_token": "true"}, headers=basic("dave", PASSWORD)).json()
    by_app_token = berth.token_call("GET", "/v2/token", params={
        "service": REGISTRY, "scope": "repository:dave/app:pull"},
        headers=basic("dave", app_token)).json()
    oauth = berth.token_call("POST", "/v2/token", data={
        "grant_type": "refresh_token", "refresh_token": registry["refresh_token"],
        "service": REGISTRY, "scope": "repository:dave/app:pull"}).json()
    bad += [berth.token_call("GET", "/v2/token", params={"service": REGISTRY},
                             headers=basic("dave", WRONG)),
            berth.token_call("GET", "/v2/token", params={"service": REGISTRY},
                             headers=basic("dave", app_token + "x")),
            berth.catalog_call("GET", "/api/v1/namespaces",
                               headers={"Portus-Auth": f"dave:{WRONG}"}),
            berth.catalog_call("GET", "/api/v1/namespaces",
                               headers={"Portus-Auth": f"dave:{app_token}x"}),
            berth.catalog_call("GET", "/api/v1/namespaces",
                               headers={"Authorization": f"Bearer {api_jwt}x"})]
    # credentials in the wrong field: a JWT as the username (logged as who
    # failed to log in) must be scrubbed by its shape
    bad += [berth.token_call("POST", "/api/v1/auth/token",
                             headers=basic(renewed["token"], "x")),
            berth.token_call("GET", "/v2/token", params={"service": REGISTRY},
                             headers=basic(registry["token"], "x")),
            berth.catalog_call("GET", "/api/v1/namespaces",
                               headers={"Portus-Auth": f"{api_jwt}:x"})]
    assert berth.catalog_call("GET", "/api/v1/namespaces", headers={
        "Portus-Auth": f"dave:{app_token}"}).status_code == 200
    assert [r.status_code for r in bad[6:] if r.status_code not in (400, 401)] == [], \
        [(r.status_code, r.text[:80]) for r in bad[6:]]
    secrets = [PASSWORD, WRONG, api_jwt, refresh, app_token, renewed["token"],
               renewed["refresh_token"], registry["token"], registry["refresh_token"],
               by_app_token["token"], oauth["token"], *key_material]
    assert_nowhere(berth, logs, secrets, [r.text for r in bad])


def test_errors_around_credentials_echo_nothing(berth: Berth, logs: Capture) -> None:
    responses = [
        berth.token_call("POST", "/api/v1/users", json={"user": {
            "username": "dave", "email": "x@example.test", "password": PASSWORD}}),
        berth.token_call("POST", "/api/v1/users", json={"user": {
            "username": "Bad Name!", "email": "e", "password": PASSWORD}}),
        berth.token_call("POST", "/api/v1/users", json={"user": {
            "username": "shorty", "email": "s@example.test", "password": WRONG[:3]}}),
        berth.token_call("POST", "/api/v1/auth/token", json={
            "grant_type": "nonsense", "password": PASSWORD}),
        berth.token_call("GET", "/internal/v1/users?username=root",
                         headers={"X-Berth-Internal": INTERNAL + "x"}),
        berth.catalog_call("GET", "/internal/v1/registries",
                           headers={"X-Berth-Internal": INTERNAL[:-1]}),
    ]
    assert all(r.status_code >= 400 for r in responses), \
        [r.status_code for r in responses]
    assert_nowhere(berth, logs, [PASSWORD, WRONG[:3], INTERNAL], [r.text for r in responses])


# --- LDAP --------------------------------------------------------------------

ldap_server: Any = pytest.importorskip("services.token.tests.ldap_server")


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not ldap_server.available():
        pytest.skip("slapd is not installed")
    with ldap_server.run_slapd(tmp_path_factory.mktemp("slapd-secrets")) as server:
        yield server


def ldap_client(slapd: Any, home: Path, bind_password: str) -> Any:
    """A token app on the real slapd, searching as the directory's admin DN."""
    home.mkdir(parents=True, exist_ok=True)
    from berth.common.signing import Signer, generate_key

    from tests.security.conftest import make_token_app, token_config

    config = token_config(home, "http://127.0.0.1:9", "http://127.0.0.1:9",
                          f"sqlite:///{home / 'token.sqlite'}",
                          BERTH_LDAP_ENABLED="true", BERTH_LDAP_HOST=slapd.host,
                          BERTH_LDAP_PORT=str(slapd.port), BERTH_LDAP_BASE=slapd.base,
                          BERTH_LDAP_BIND_DN=ldap_server.ROOT_DN,
                          BERTH_LDAP_BIND_PASSWORD=bind_password)
    return make_token_app(config, Signer([generate_key("ES256")])).test_client()


def _ldap_login(client: Any, username: str, password: str) -> Any:
    return client.post("/api/v1/auth/token", json={
        "grant_type": "password", "username": username, "password": password})


def test_ldap_bind_failures_leak_nothing(slapd: Any, tmp_path: Path,
                                         logs: Capture) -> None:
    good = ldap_client(slapd, tmp_path / "good", ldap_server.ROOT_PW)
    wrong_bind = "Ldap-Bind-Pa55-never-logged"
    broken = ldap_client(slapd, tmp_path / "broken", wrong_bind)
    logs.attach()
    bodies = []
    for username, password in (("jane", WRONG), ("nobody", WRONG), ("jane", PASSWORD),
                               ("jane", "")):
        resp = _ldap_login(good, username, password)
        assert resp.status_code in (401, 422), resp.get_data(as_text=True)
        bodies.append(resp.get_data(as_text=True))
    # a wrong service bind password: the directory is unavailable, quietly
    resp = _ldap_login(broken, "jane", "secret-jane")
    assert resp.status_code == 503
    bodies.append(resp.get_data(as_text=True))
    # the control: the right password works, so the binds really happened
    ok = _ldap_login(good, "jane", "secret-jane")
    assert ok.status_code == 200
    text = logs.text()
    assert "jane" in text
    for secret in (WRONG, PASSWORD, ldap_server.ROOT_PW, wrong_bind, "secret-jane",
                   ok.get_json()["token"]):
        assert secret not in text, secret[:8]
        assert all(secret not in body for body in bodies)
