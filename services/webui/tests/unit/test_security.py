"""CSRF, security headers, safe redirects."""

from __future__ import annotations

import pytest
from berth.webui.security import CONTENT_SECURITY_POLICY, safe_next
from flask.testing import FlaskClient

from services.webui.tests.conftest import csrf_of


@pytest.mark.parametrize(("target", "expected"), [
    (None, "/"),
    ("", "/"),
    ("/teams", "/teams"),
    ("/search?q=a", "/search?q=a"),
    ("//evil.example/x", "/"),
    ("/\\evil.example", "/"),
    ("https://evil.example/", "/"),
    ("javascript:alert(1)", "/"),
    ("teams", "/"),
    ("/\x0d\x0aSet-Cookie:x", "/"),
])
def test_safe_next_keeps_redirects_on_this_site(target: str | None,
                                                expected: str) -> None:
    assert safe_next(target) == expected


def test_pages_carry_a_strict_csp_and_frame_protection(client: FlaskClient) -> None:
    resp = client.get("/login")
    assert resp.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"


def test_templates_hold_no_inline_script_or_style(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "<script>" not in page and "style=" not in page and "onclick" not in page


def test_login_without_csrf_token_is_refused(client: FlaskClient) -> None:
    resp = client.post("/login", data={"username": "alice", "password": "alice-password"})
    assert resp.status_code == 400
    assert client.get("/profile").status_code == 302


def test_login_with_another_sessions_token_is_refused(
        client: FlaskClient, app: object) -> None:
    other = app.test_client()  # type: ignore[attr-defined]
    foreign = csrf_of(other)
    csrf_of(client)
    resp = client.post("/login", data={"username": "alice", "password": "alice-password",
                                       "csrf_token": foreign})
    assert resp.status_code == 400


def test_csrf_token_changes_when_signing_in(client: FlaskClient) -> None:
    before = csrf_of(client)
    client.post("/login", data={"username": "alice", "password": "alice-password",
                                "csrf_token": before})
    with client.session_transaction() as sess:
        assert sess["csrf"] != before


def test_json_endpoints_keep_the_error_shape(client: FlaskClient) -> None:
    resp = client.get("/api/v1/nothing")
    assert resp.status_code == 404
    assert set(resp.get_json()) == {"message", "errors"}
    assert client.get("/openapi.json").get_json()["openapi"].startswith("3.")


@pytest.mark.parametrize(("remote", "forwarded", "expected"), [
    ("127.0.0.1", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # behind the ingress
    ("203.0.113.7", "198.51.100.1", "203.0.113.7"),  # exposed: no spoofing
])
def test_the_browsers_real_address_is_what_the_token_service_is_told(
        client: FlaskClient, monkeypatch: pytest.MonkeyPatch, remote: str,
        forwarded: str, expected: str) -> None:
    from berth.webui.api_client import ApiClient

    seen: list[str | None] = []
    original = ApiClient.with_token

    def spy(self: ApiClient, token: str | None,
            client_address: str | None = None) -> ApiClient:
        seen.append(client_address)
        return original(self, token, client_address)

    monkeypatch.setattr(ApiClient, "with_token", spy)
    env = {"REMOTE_ADDR": remote}
    csrf = csrf_of(client)
    client.post("/login", data={"username": "alice", "password": "alice-password",
                                "csrf_token": csrf},
                headers={"X-Forwarded-For": forwarded}, environ_base=env)
    assert seen and set(seen) == {expected}
