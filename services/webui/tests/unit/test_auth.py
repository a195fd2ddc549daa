"""Sign in, sign up, sign out, session renewal."""

from __future__ import annotations

from flask.testing import FlaskClient

from services.webui.tests.conftest import csrf_of, post, sign_in
from services.webui.tests.fake_backend import FakeBackend


def test_sign_in_starts_a_session_and_goes_to_the_dashboard(client: FlaskClient) -> None:
    resp = sign_in(client, "alice", "alice-password")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/").get_data(as_text=True)
    assert "Hello, alice" in page


def test_wrong_password_is_refused_with_a_message(client: FlaskClient) -> None:
    resp = sign_in(client, "alice", "nope")
    assert resp.status_code == 401
    assert "Wrong username or password" in resp.get_data(as_text=True)
    assert client.get("/").headers["Location"] == "/explore"


def test_throttling_says_when_to_retry(client: FlaskClient, backend: FakeBackend) -> None:
    backend.throttled = True
    resp = sign_in(client, "alice", "alice-password")
    assert resp.status_code == 429
    assert "Try again in 42 seconds" in resp.get_data(as_text=True)


def test_next_parameter_is_followed_only_on_this_site(client: FlaskClient) -> None:
    token = csrf_of(client)
    resp = client.post("/login", data={"username": "alice", "password": "alice-password",
                                       "csrf_token": token,
                                       "next": "https://evil.example/"})
    assert resp.headers["Location"] == "/"
    post(client, "/logout")
    token = csrf_of(client)
    resp = client.post("/login", data={"username": "alice", "password": "alice-password",
                                       "csrf_token": token, "next": "/teams"})
    assert resp.headers["Location"] == "/teams"


def test_login_required_pages_redirect_to_sign_in_with_next(client: FlaskClient) -> None:
    resp = client.get("/profile")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=/profile")


def test_sign_out_ends_the_session(alice_client: FlaskClient) -> None:
    resp = post(alice_client, "/logout")
    assert resp.status_code == 302
    assert alice_client.get("/profile").status_code == 302


def test_sign_out_without_csrf_token_is_refused(alice_client: FlaskClient) -> None:
    resp = alice_client.post("/logout")
    assert resp.status_code == 400
    assert "did not come from this site" in resp.get_data(as_text=True)
    assert alice_client.get("/profile").status_code == 200


def test_sign_up_creates_the_account_and_signs_in(client: FlaskClient,
                                                  backend: FakeBackend) -> None:
    token = csrf_of(client, "/signup")
    resp = client.post("/signup", data={
        "username": "bob", "email": "bob@example.test", "password": "bob-password",
        "password_confirmation": "bob-password", "csrf_token": token})
    assert resp.status_code == 302
    assert any(u["username"] == "bob" for u in backend.users.values())
    assert "Hello, bob" in client.get("/").get_data(as_text=True)


def test_sign_up_shows_the_token_service_error(client: FlaskClient) -> None:
    token = csrf_of(client, "/signup")
    resp = client.post("/signup", data={
        "username": "alice", "email": "a@example.test", "password": "whatever1",
        "password_confirmation": "whatever1", "csrf_token": token})
    assert resp.status_code == 422
    assert "already been taken" in resp.get_data(as_text=True)


def test_sign_up_with_different_passwords_is_refused(client: FlaskClient) -> None:
    token = csrf_of(client, "/signup")
    resp = client.post("/signup", data={
        "username": "carol", "email": "c@example.test", "password": "one-password",
        "password_confirmation": "another-one", "csrf_token": token})
    assert resp.status_code == 422


def test_expired_jwt_is_renewed_with_the_refresh_token(
        alice_client: FlaskClient, backend: FakeBackend) -> None:
    with alice_client.session_transaction() as sess:
        old, refresh = sess["api_token"], sess["refresh_token"]
        sess["expires_at"] = 0
    assert alice_client.get("/profile").status_code == 200
    with alice_client.session_transaction() as sess:
        assert sess["api_token"] != old
    assert ("POST", "/api/v1/auth/token", {"grant_type": "refresh_token",
            "refresh_token": refresh}) in backend.requests


def test_refused_refresh_ends_the_session(alice_client: FlaskClient,
                                          backend: FakeBackend) -> None:
    backend.refresh.clear()
    with alice_client.session_transaction() as sess:
        sess["expires_at"] = 0
    resp = alice_client.get("/profile")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_revoked_api_token_sends_back_to_sign_in(alice_client: FlaskClient,
                                                 backend: FakeBackend) -> None:
    backend.tokens.clear()
    resp = alice_client.get("/profile")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
