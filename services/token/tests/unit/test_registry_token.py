"""``GET/POST /v2/token``: the token response, one row per case, and every
credential path."""

from __future__ import annotations

import re
from typing import Any

import jwt
import pytest
from berth.common.signing import Signer, libtrust_kid, verify
from flask import Flask
from token_helpers import PASSWORD, assert_error, basic, internal

SERVICE = "registry.test:5000"


def claims_of(app: Flask, token: str, audience: str = SERVICE) -> dict[str, Any]:
    signer = app.extensions["berth.token"].signer
    return verify(token, signer.public_keys(), audience=audience, issuer="berth-test")


@pytest.fixture
def people(app, make_user, make_token, authorizer) -> dict[str, Any]:
    alice = make_user("alice")
    make_user("admin", admin=True)
    make_user("carol", enabled=False)
    bot = make_user("robot", bot=True, password=None)
    authorizer.table.update({
        ("alice", "alice/app"): ("pull", "push"),
        ("*", "library/public"): ("pull",),
        ("robot", "ci/app"): ("pull", "push"),
    })
    return {"alice": alice, "token": make_token(alice), "bot_token": make_token(bot)}


# (case, credentials, query, expected sub, expected access)
CASES = [
    ("anonymous_public_pull", None, "scope=repository:library/public:pull",
     "", [{"type": "repository", "name": "library/public", "actions": ["pull"]}]),
    ("anonymous_denied_push_dropped", None, "scope=repository:library/public:pull,push",
     "", [{"type": "repository", "name": "library/public", "actions": ["pull"]}]),
    ("anonymous_private_nothing", None, "scope=repository:alice/app:pull",
     "", [{"type": "repository", "name": "alice/app", "actions": []}]),
    ("password_owner_push", ("alice", PASSWORD), "scope=repository:alice/app:pull,push",
     "alice", [{"type": "repository", "name": "alice/app", "actions": ["pull", "push"]}]),
    ("password_intersection_only", ("alice", PASSWORD),
     "scope=repository:alice/app:pull,delete",
     "alice", [{"type": "repository", "name": "alice/app", "actions": ["pull"]}]),
    ("application_token", ("alice", "TOKEN"), "scope=repository:alice/app:push",
     "alice", [{"type": "repository", "name": "alice/app", "actions": ["push"]}]),
    ("bot_application_token", ("robot", "BOT_TOKEN"), "scope=repository:ci/app:push",
     "robot", [{"type": "repository", "name": "ci/app", "actions": ["push"]}]),
    ("login_without_scope", ("alice", PASSWORD), "account=alice&client_id=docker",
     "alice", []),
    ("two_scopes_in_order", ("alice", PASSWORD),
     "scope=repository:library/public:pull&scope=repository:alice/app:pull",
     "alice", [{"type": "repository", "name": "library/public", "actions": ["pull"]},
               {"type": "repository", "name": "alice/app", "actions": ["pull"]}]),
    ("repeated_scope_merged", ("alice", PASSWORD),
     "scope=repository:alice/app:pull&scope=repository:alice/app:push",
     "alice", [{"type": "repository", "name": "alice/app", "actions": ["pull", "push"]}]),
    ("unknown_action_dropped", ("alice", PASSWORD),
     "scope=repository:alice/app:pull,fly",
     "alice", [{"type": "repository", "name": "alice/app", "actions": ["pull"]}]),
    ("catalog_not_for_users", ("alice", PASSWORD), "scope=registry:catalog:*",
     "alice", [{"type": "registry", "name": "catalog", "actions": []}]),
]


@pytest.mark.parametrize(("case", "creds", "query", "sub", "access"), CASES,
                         ids=[c[0] for c in CASES])
def test_token_response(app, client, people, case, creds, query, sub, access) -> None:
    headers = {}
    if creds is not None:
        secret = {"TOKEN": people["token"], "BOT_TOKEN": people["bot_token"]}.get(
            creds[1], creds[1])
        headers = basic(creds[0], secret)
    resp = client.get(f"/v2/token?service={SERVICE}&{query}", headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"token", "access_token", "expires_in", "issued_at"}
    assert body["token"] == body["access_token"]
    assert body["expires_in"] == 900
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["issued_at"])
    claims = claims_of(app, body["token"])
    assert claims["sub"] == sub
    assert claims["access"] == access
    assert claims["iss"] == "berth-test" and claims["aud"] == SERVICE
    assert claims["exp"] - claims["iat"] == 900
    assert claims["nbf"] <= claims["iat"] and len(claims["jti"]) >= 16


def test_header_carries_the_libtrust_kid(app, client, rsa_key) -> None:
    token = client.get(f"/v2/token?service={SERVICE}").get_json()["token"]
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": libtrust_kid(rsa_key.public_key())}


def test_es256_and_rotation_sign_with_the_newest_key(make_app, rsa_key, ec_key) -> None:
    app = make_app(signer=Signer([rsa_key, ec_key]))
    token = app.test_client().get(f"/v2/token?service={SERVICE}").get_json()["token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256" and header["kid"] == libtrust_kid(ec_key.public_key())
    assert claims_of(app, token)["sub"] == ""
    jwks = app.test_client().get("/.well-known/jwks.json").get_json()
    assert {k["kid"] for k in jwks["keys"]} == {libtrust_kid(rsa_key.public_key()),
                                                 libtrust_kid(ec_key.public_key())}


def test_lifetime_is_configurable(make_app) -> None:
    app = make_app(BERTH_TOKEN_LIFETIME="60")
    body = app.test_client().get(f"/v2/token?service={SERVICE}").get_json()
    assert body["expires_in"] == 60
    claims = claims_of(app, body["token"])
    assert claims["exp"] - claims["iat"] == 60


def test_no_scope_does_not_ask_the_catalog(client, people, authorizer) -> None:
    client.get(f"/v2/token?service={SERVICE}", headers=basic("alice", PASSWORD))
    assert authorizer.calls == []


def test_catalog_receives_principal_and_service(client, people, authorizer) -> None:
    client.get(f"/v2/token?service={SERVICE}&scope=repository:alice/app:pull",
               headers=basic("alice", PASSWORD))
    principal, service, scopes = authorizer.calls[0]
    assert principal.username == "alice" and principal.kind == "user"
    assert service == SERVICE and scopes[0].name == "alice/app"


# -- refusals ----------------------------------------------------------------

REFUSED = [
    ("wrong_password", ("alice", "not the password")),
    ("unknown_user", ("mallory", PASSWORD)),
    ("disabled_user_right_password", ("carol", PASSWORD)),
    ("empty_password", ("alice", "")),
    ("bot_has_no_password", ("robot", PASSWORD)),
    ("other_users_token", ("admin", "TOKEN")),
]


@pytest.mark.parametrize(("case", "creds"), REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_credentials_all_look_the_same(client, people, case, creds) -> None:
    secret = people["token"] if creds[1] == "TOKEN" else creds[1]
    resp = client.get(f"/v2/token?service={SERVICE}&scope=repository:alice/app:pull",
                      headers=basic(creds[0], secret))
    body = assert_error(resp, 401, "UNAUTHORIZED")
    assert body["message"] == "invalid credentials"


def test_access_jwt_is_not_a_password(client, people) -> None:
    api = client.post("/api/v1/auth/token", headers=basic("alice", PASSWORD)).get_json()
    registry = client.get(f"/v2/token?service={SERVICE}",
                          headers=basic("alice", PASSWORD)).get_json()
    for jwt_token in (api["token"], registry["token"]):
        resp = client.get(f"/v2/token?service={SERVICE}",
                          headers=basic("alice", jwt_token))
        assert_error(resp, 401)


def test_bearer_is_not_accepted_at_the_token_endpoint(client, people) -> None:
    api = client.post("/api/v1/auth/token", headers=basic("alice", PASSWORD)).get_json()
    resp = client.get(f"/v2/token?service={SERVICE}",
                      headers={"Authorization": f"Bearer {api['token']}"})
    assert_error(resp, 401)


def test_malformed_basic_is_refused(client) -> None:
    resp = client.get(f"/v2/token?service={SERVICE}",
                      headers={"Authorization": "Basic !!!notbase64"})
    assert_error(resp, 401)


def test_disabled_user_is_refused_even_with_a_cached_password(app, client, people) -> None:
    url = f"/v2/token?service={SERVICE}"
    assert client.get(url, headers=basic("alice", PASSWORD)).status_code == 200
    svc = app.extensions["berth.token"]
    with svc.runtime.sessions() as session:
        from berth.token.models import User
        session.get(User, people["alice"].id).enabled = False
        session.commit()  # another process did it: no cache flush here
    assert_error(client.get(url, headers=basic("alice", PASSWORD)), 401)


def test_account_mismatch_is_refused(client, people) -> None:
    resp = client.get(f"/v2/token?service={SERVICE}&account=admin",
                      headers=basic("alice", PASSWORD))
    assert_error(resp, 401, "ACCOUNT_MISMATCH")
    resp = client.get(f"/v2/token?service={SERVICE}&account=alice")
    assert_error(resp, 401, "ACCOUNT_MISMATCH")


@pytest.mark.parametrize("query", ["scope=repository:Bad:pull", "scope=widget:x:pull",
                                   "scope=repository:ok:pull&scope=repository:a//b:pull"])
def test_malformed_scope_is_400_before_any_grant(client, people, authorizer, query) -> None:
    resp = client.get(f"/v2/token?service={SERVICE}&{query}",
                      headers=basic("alice", PASSWORD))
    assert_error(resp, 400, "SCOPE_INVALID")
    assert authorizer.calls == []


def test_service_is_required(client) -> None:
    assert_error(client.get("/v2/token?scope=repository:a:pull"), 400, "SERVICE_REQUIRED")


def test_catalog_down_is_503_never_a_grant(client, people, authorizer) -> None:
    authorizer.down = True
    resp = client.get(f"/v2/token?service={SERVICE}&scope=repository:alice/app:pull",
                      headers=basic("alice", PASSWORD))
    body = assert_error(resp, 503)
    assert "token" not in body


# -- the service principal --------------------------------------------------

def test_internal_secret_gets_a_service_token(app, client, authorizer) -> None:
    resp = client.get(f"/v2/token?service={SERVICE}&scope=registry:catalog:*"
                      "&scope=repository:any/repo:pull,delete", headers=internal())
    claims = claims_of(app, resp.get_json()["token"])
    assert claims["sub"] == "berth"
    assert claims["access"][0] == {"type": "registry", "name": "catalog", "actions": ["*"]}
    assert authorizer.calls[0][0].kind == "service"


def test_wrong_internal_secret_is_refused(client) -> None:
    resp = client.get(f"/v2/token?service={SERVICE}",
                      headers={"X-Berth-Internal": "guess"})
    assert_error(resp, 401)


# -- refresh tokens and OAuth2 ----------------------------------------------

def test_offline_token_returns_a_refresh_token(app, client, people) -> None:
    resp = client.get(f"/v2/token?service={SERVICE}&offline_token=true&client_id=docker",
                      headers=basic("alice", PASSWORD))
    refresh = resp.get_json()["refresh_token"]
    resp = client.post("/v2/token", data={
        "grant_type": "refresh_token", "refresh_token": refresh, "service": SERVICE,
        "client_id": "docker", "scope": "repository:alice/app:pull,push"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["scope"] == "repository:alice/app:pull,push"
    assert claims_of(app, body["access_token"])["sub"] == "alice"


@pytest.mark.parametrize("grant", ["refresh_token", "password"])
def test_oauth_form_with_repeated_scope_fields_grants_each(app, client, people,
                                                            grant) -> None:
    # containers/image sends one ``scope`` field per resource (a push that
    # mounts a blob from another repository asks for both at once).
    refresh = client.get(f"/v2/token?service={SERVICE}&offline_token=true",
                         headers=basic("alice", PASSWORD)).get_json()["refresh_token"]
    form = {"refresh_token": {"refresh_token": refresh},
            "password": {"username": "alice", "password": PASSWORD}}[grant]
    resp = client.post("/v2/token", data={
        "grant_type": grant, **form, "service": SERVICE, "client_id": "containers/image",
        "scope": ["repository:alice/app:pull,push", "repository:library/public:pull"]})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["scope"] == "repository:alice/app:pull,push repository:library/public:pull"
    assert claims_of(app, body["access_token"])["access"] == [
        {"type": "repository", "name": "alice/app", "actions": ["pull", "push"]},
        {"type": "repository", "name": "library/public", "actions": ["pull"]}]


def test_oauth_form_with_space_separated_scopes_grants_each(app, client, people) -> None:
    resp = client.post("/v2/token", data={
        "grant_type": "password", "username": "alice", "password": PASSWORD,
        "service": SERVICE,
        "scope": "repository:alice/app:pull repository:library/public:pull"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert [a["name"] for a in claims_of(app, resp.get_json()["access_token"])["access"]] \
        == ["alice/app", "library/public"]


def test_anonymous_gets_no_refresh_token(client) -> None:
    body = client.get(f"/v2/token?service={SERVICE}&offline_token=true").get_json()
    assert "refresh_token" not in body


def test_refresh_token_is_bound_to_its_service(client, people) -> None:
    refresh = client.get(f"/v2/token?service={SERVICE}&offline_token=true",
                         headers=basic("alice", PASSWORD)).get_json()["refresh_token"]
    resp = client.post("/v2/token", data={"grant_type": "refresh_token",
                                          "refresh_token": refresh, "service": "other"})
    assert_error(resp, 401, "INVALID_GRANT")


@pytest.mark.parametrize("change", [{"enabled": False}, {"password": "a new password"}])
def test_refresh_token_dies_with_password_change_or_disable(client, people, change) -> None:
    refresh = client.get(f"/v2/token?service={SERVICE}&offline_token=true",
                         headers=basic("alice", PASSWORD)).get_json()["refresh_token"]
    admin = client.post("/api/v1/auth/token", headers=basic("admin", PASSWORD)).get_json()
    resp = client.put(f"/api/v1/users/{people['alice'].id}", json={"user": change},
                      headers={"Authorization": f"Bearer {admin['token']}"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    resp = client.post("/v2/token", data={"grant_type": "refresh_token",
                                          "refresh_token": refresh, "service": SERVICE})
    assert_error(resp, 401, "INVALID_GRANT")


def test_password_grant(app, client, people) -> None:
    resp = client.post("/v2/token", data={
        "grant_type": "password", "username": "alice", "password": PASSWORD,
        "service": SERVICE, "client_id": "docker", "access_type": "offline",
        "scope": "repository:alice/app:push"})
    body = resp.get_json()
    assert resp.status_code == 200 and body["refresh_token"]
    assert claims_of(app, body["access_token"])["access"][0]["actions"] == ["push"]
    resp = client.post("/v2/token", data={
        "grant_type": "password", "username": "alice", "password": "wrong",
        "service": SERVICE})
    assert_error(resp, 401)


@pytest.mark.parametrize("data", [
    {"grant_type": "authorization_code", "service": SERVICE},
    {"service": SERVICE},
    {"grant_type": "refresh_token", "service": SERVICE},
    {"grant_type": "password", "username": "alice", "password": PASSWORD}])
def test_malformed_oauth_requests_are_400(client, people, data) -> None:
    assert_error(client.post("/v2/token", data=data), 400)


def test_deleting_a_user_kills_their_refresh_and_application_tokens(client, people) -> None:
    refresh = client.get(f"/v2/token?service={SERVICE}&offline_token=true",
                         headers=basic("alice", PASSWORD)).get_json()["refresh_token"]
    admin = client.post("/api/v1/auth/token", headers=basic("admin", PASSWORD)).get_json()
    assert client.delete(f"/api/v1/users/{people['alice'].id}", headers={
        "Authorization": f"Bearer {admin['token']}"}).status_code == 204
    resp = client.post("/v2/token", data={"grant_type": "refresh_token",
                                          "refresh_token": refresh, "service": SERVICE})
    assert_error(resp, 401, "INVALID_GRANT")
    assert_error(client.get(f"/v2/token?service={SERVICE}",
                            headers=basic("alice", people["token"])), 401)


def test_one_log_line_names_the_grant(client, make_user, make_token, authorizer,
                                      capsys) -> None:
    import json

    from berth.common.logging import configure_logging

    alice = make_user("alice")
    authorizer.table[("alice", "alice/app")] = ("pull",)
    token = make_token(alice)
    configure_logging("token", "INFO")
    try:
        capsys.readouterr()
        resp = client.get(
            f"/v2/token?service={SERVICE}&scope=repository:alice/app:pull,push",
            headers=basic("alice", token))
        err = capsys.readouterr().err
    finally:
        configure_logging("token", "WARNING")
    assert resp.status_code == 200
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [line["event"] for line in lines] == ["token_issued"]
    line = lines[0]
    assert (line["sub"], line["via"], line["service"]) == (
        "alice", "application_token", SERVICE)
    assert line["scopes"] == ["repository:alice/app:pull"]
    assert (line["path"], line["status"]) == ("/v2/token", 200)
