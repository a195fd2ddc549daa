"""API JWTs, refresh, JWKS, the internal endpoints."""

from __future__ import annotations

import pytest
from berth.common.auth import API_AUDIENCE
from berth.common.signing import verify
from token_helpers import PASSWORD, assert_error, basic, internal


@pytest.fixture
def alice(make_user):
    return make_user("alice", admin=True)


def test_api_token_claims(app, client, alice) -> None:
    resp = client.post("/api/v1/auth/token", headers=basic("alice", PASSWORD))
    body = resp.get_json()
    assert set(body) == {"token", "expires_in", "refresh_token"}
    keys = app.extensions["berth.token"].signer.public_keys()
    claims = verify(body["token"], keys, audience=API_AUDIENCE, issuer="berth-test")
    assert claims["sub"] == "alice" and claims["uid"] == alice.id
    assert claims["adm"] is True and claims["bot"] is False


def test_api_token_verifies_with_the_published_jwks(client, alice) -> None:
    from berth.common.signing import keys_from_jwks

    body = client.post("/api/v1/auth/token", headers=basic("alice", PASSWORD)).get_json()
    keys = keys_from_jwks(client.get("/.well-known/jwks.json").get_json())
    assert verify(body["token"], keys, audience=API_AUDIENCE)["sub"] == "alice"


def test_api_token_is_not_a_registry_token(client, alice) -> None:
    body = client.post("/api/v1/auth/token", headers=basic("alice", PASSWORD)).get_json()
    registry = client.get("/v2/token?service=s", headers=basic("alice", PASSWORD))
    resp = client.get("/api/v1/users",
                      headers={"Authorization": f"Bearer {registry.get_json()['token']}"})
    assert_error(resp, 401)
    assert client.get("/api/v1/users", headers={
        "Authorization": f"Bearer {body['token']}"}).status_code == 200


def test_refresh_rotates(client, alice) -> None:
    first = client.post("/api/v1/auth/token", headers=basic("alice", PASSWORD)).get_json()
    resp = client.post("/api/v1/auth/token", json={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert resp.status_code == 200
    second = resp.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    again = client.post("/api/v1/auth/token", json={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert_error(again, 401, "INVALID_GRANT")


def test_registry_refresh_token_does_not_work_for_the_api(client, alice) -> None:
    refresh = client.get("/v2/token?service=s&offline_token=true",
                         headers=basic("alice", PASSWORD)).get_json()["refresh_token"]
    resp = client.post("/api/v1/auth/token", json={"grant_type": "refresh_token",
                                                   "refresh_token": refresh})
    assert_error(resp, 401)


def test_password_grant_in_json(client, alice) -> None:
    resp = client.post("/api/v1/auth/token", json={
        "grant_type": "password", "username": "alice", "password": PASSWORD})
    assert resp.status_code == 200


@pytest.mark.parametrize(("kwargs", "status"), [
    ({}, 401),
    ({"headers": basic("alice", "wrong")}, 401),
    ({"json": {"grant_type": "magic"}}, 400),
    ({"json": {"grant_type": "refresh_token"}}, 400),
    ({"data": "{", "content_type": "application/json"}, 400),
])
def test_api_token_refusals(client, alice, kwargs, status) -> None:
    assert_error(client.post("/api/v1/auth/token", **kwargs), status)


# -- internal ----------------------------------------------------------------

def test_internal_principal(client, alice, make_token) -> None:
    token = make_token(alice)
    for secret in (PASSWORD, token):
        resp = client.post("/internal/v1/principal", headers=internal(), json={
            "username": "alice", "secret": secret, "address": "10.0.0.1"})
        assert resp.status_code == 200
        assert resp.get_json() == {"principal": {"id": alice.id, "username": "alice",
                                                 "admin": True, "kind": "user"}}


def test_internal_principal_refusals(client, alice) -> None:
    assert_error(client.post("/internal/v1/principal", json={
        "username": "alice", "secret": PASSWORD}), 401)
    assert_error(client.post("/internal/v1/principal", headers=internal(), json={
        "username": "alice", "secret": "wrong"}), 401)
    assert_error(client.post("/internal/v1/principal", headers=internal(), json={
        "username": "alice"}), 422)


def test_internal_principal_throttles_per_address(make_app, make_config) -> None:
    app = make_app(BERTH_THROTTLE_ADDRESS_ATTEMPTS="2")
    client = app.test_client()
    for name in ("u1", "u2"):
        client.post("/internal/v1/principal", headers=internal(), json={
            "username": name, "secret": "wrong", "address": "10.9.9.9"})
    resp = client.post("/internal/v1/principal", headers=internal(), json={
        "username": "u3", "secret": "wrong", "address": "10.9.9.9"})
    assert_error(resp, 429)
    assert int(resp.headers["Retry-After"]) >= 1


def test_internal_users(client, alice) -> None:
    resp = client.get(f"/internal/v1/users/{alice.id}", headers=internal())
    assert resp.get_json() == {"id": alice.id, "username": "alice",
                               "email": "alice@example.com", "display_name": None,
                               "admin": True, "enabled": True, "bot": False}
    assert client.get("/internal/v1/users?username=alice",
                      headers=internal()).get_json()["id"] == alice.id
    assert_error(client.get("/internal/v1/users/999", headers=internal()), 404)
    assert_error(client.get("/internal/v1/users?username=nobody", headers=internal()), 404)
    assert_error(client.get("/internal/v1/users", headers=internal()), 422)
    assert_error(client.get(f"/internal/v1/users/{alice.id}"), 401)
    assert_error(client.get(f"/internal/v1/users/{alice.id}",
                            headers=basic("alice", PASSWORD)), 401)


def test_openapi_and_health(client) -> None:
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.") and "/v2/token" in doc["paths"]
    assert client.get("/api/v1/token/openapi.json").get_json() == doc
    assert client.get("/api/v1/health").status_code in (200, 503)


def test_metrics_count_tokens_and_logins(client, alice) -> None:
    client.get("/v2/token?service=s", headers=basic("alice", PASSWORD))
    client.get("/v2/token?service=s", headers=basic("alice", "wrong"))
    text = client.get("/metrics").get_data(as_text=True)
    assert 'berth_token_tokens_issued_total{kind="registry"}' in text
    assert 'berth_token_logins_total{detail="bad_credentials",result="failed"}' in text


@pytest.mark.parametrize("client_hint", [{}, [], 5, "webui", "unknown"])
def test_client_hint_of_any_type_is_harmless(client, alice, client_hint) -> None:
    resp = client.post("/api/v1/auth/token", json={
        "grant_type": "password", "username": "alice", "password": PASSWORD,
        "client": client_hint})
    assert resp.status_code == 200


def test_openapi_documents_throttling_wherever_credentials_are_checked(client) -> None:
    doc = client.get("/openapi.json").get_json()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            if "401" in op["responses"]:
                assert {"429", "503"} <= set(op["responses"]), (path, method)
