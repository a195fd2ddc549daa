"""Who is calling: JWTs, Portus-Auth, Basic, the internal secret."""

from __future__ import annotations

import base64

import pytest
from flask import Flask, jsonify

from berth.common.app import base_app
from berth.common.auth import (
    API_AUDIENCE,
    Authenticator,
    JwksKeys,
    Principal,
    current_principal,
    install_auth,
    require_admin,
    require_internal,
)
from berth.common.signing import Signer, generate_key

SIGNER = Signer([generate_key("ES256")])
USERS = {("alice", "app-token-1"): Principal(id=7, username="alice")}


def resolver(username: str, secret: str, _addr: str) -> Principal | None:
    return USERS.get((username, secret))


@pytest.fixture
def client() -> object:
    app: Flask = base_app("test", __name__)
    install_auth(app, Authenticator(keys=JwksKeys(static=SIGNER.public_keys()),
                                    credentials=resolver, internal_secret="s3",
                                    issuer="berth"))

    @app.get("/who")
    def who() -> object:
        p = current_principal()
        return jsonify(p.to_dict() | {"via": p.via})

    @app.get("/admin")
    def admin() -> object:
        return jsonify(require_admin().to_dict())

    @app.get("/internal")
    def internal() -> object:
        return jsonify(require_internal().to_dict())

    return app.test_client()


def jwt_for(sub: str, admin: bool = False, aud: str = API_AUDIENCE,
            iss: str = "berth") -> str:
    return SIGNER.sign({"sub": sub, "uid": 1, "adm": admin, "aud": aud, "iss": iss},
                       lifetime=60)[0]


def test_no_credentials_is_anonymous(client) -> None:
    assert client.get("/who").json["kind"] == "anonymous"


def test_bearer_jwt_identifies_user(client) -> None:
    resp = client.get("/who", headers={"Authorization": f"Bearer {jwt_for('bob')}"})
    assert resp.json["username"] == "bob" and resp.json["via"] == "jwt"


@pytest.mark.parametrize("token", [
    "garbage", jwt_for("bob", aud="registry"), jwt_for("bob", iss="elsewhere"),
    Signer([generate_key("RS256")]).sign({"sub": "x", "aud": API_AUDIENCE}, lifetime=60)[0],
])
def test_bad_jwts_are_401(client, token: str) -> None:
    resp = client.get("/who", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401 and resp.json["errors"][0]["code"] == "UNAUTHORIZED"


def test_portus_auth_and_basic_resolve_credentials(client) -> None:
    assert client.get("/who", headers={"Portus-Auth": "alice:app-token-1"}).json[
        "username"] == "alice"
    basic = base64.b64encode(b"alice:app-token-1").decode()
    assert client.get("/who", headers={"Authorization": f"Basic {basic}"}).json[
        "id"] == 7


@pytest.mark.parametrize("headers", [
    {"Portus-Auth": "alice:wrong"}, {"Portus-Auth": "no-colon"},
    {"Authorization": "Basic !!!"}, {"Authorization": "Digest abc"},
])
def test_bad_credentials_are_401(client, headers: dict[str, str]) -> None:
    assert client.get("/who", headers=headers).status_code == 401


def test_admin_only_endpoint(client) -> None:
    assert client.get("/admin").status_code == 401
    user = {"Authorization": f"Bearer {jwt_for('bob')}"}
    assert client.get("/admin", headers=user).status_code == 403
    admin = {"Authorization": f"Bearer {jwt_for('root', admin=True)}"}
    assert client.get("/admin", headers=admin).status_code == 200


def test_internal_secret(client) -> None:
    assert client.get("/internal", headers={"X-Berth-Internal": "s3"}).json[
        "kind"] == "service"
    assert client.get("/internal", headers={"X-Berth-Internal": "nope"}).status_code == 401
    admin = {"Authorization": f"Bearer {jwt_for('root', admin=True)}"}
    assert client.get("/internal", headers=admin).status_code == 401


def test_credentials_are_resolved_with_the_client_address_not_the_proxy() -> None:
    seen: list[str] = []

    def remember(username: str, secret: str, addr: str) -> Principal | None:
        seen.append(addr)
        return None

    app: Flask = base_app("test", __name__, trusted_proxies="127.0.0.0/8")
    install_auth(app, Authenticator(keys=JwksKeys(static=SIGNER.public_keys()),
                                    credentials=remember, internal_secret="s3"))

    @app.get("/who")
    def who() -> object:
        return jsonify(current_principal().username)

    client = app.test_client()
    spoof = {"Portus-Auth": "alice:x", "X-Forwarded-For": "198.51.100.1"}
    client.get("/who", headers=spoof, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    client.get("/who", headers={**spoof, "X-Forwarded-For": "198.51.100.1, 192.0.2.4"})
    assert seen == ["203.0.113.9", "192.0.2.4"]


class _Answer:
    def __init__(self, status: int, body: dict[str, object] | None = None) -> None:
        self.status_code = status
        self._body = body or {}

    def json(self) -> dict[str, object]:
        return self._body


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_remote_credentials_refused_or_malformed_are_no_principal(
        monkeypatch: pytest.MonkeyPatch, status: int) -> None:
    from berth.common.auth import RemoteCredentials
    from berth.common.errors import Unavailable

    creds = RemoteCredentials("http://127.0.0.1:9", "s")
    monkeypatch.setattr(creds._http, "post", lambda *a, **kw: _Answer(status))
    assert creds("x" * 300, "secret", "127.0.0.1") is None
    monkeypatch.setattr(creds._http, "post", lambda *a, **kw: _Answer(500))
    with pytest.raises(Unavailable):
        creds("alice", "secret", "127.0.0.1")


def test_remote_credentials_cache_only_successes_for_ttl(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import berth.common.auth as auth_module
    from berth.common.auth import RemoteCredentials

    now = [1000.0]
    monkeypatch.setattr(auth_module.time, "monotonic", lambda: now[0])
    calls: list[str] = []
    answers = {"right": _Answer(200, {"principal": {
        "id": 1, "username": "alice", "admin": False, "kind": "user"}}),
        "wrong": _Answer(401)}

    def post(url: str, json: dict[str, str], **kw: object) -> _Answer:
        calls.append(json["secret"])
        return answers[json["secret"]]

    creds = RemoteCredentials("http://127.0.0.1:9", "s", ttl=30.0)
    monkeypatch.setattr(creds._http, "post", post)
    assert creds("alice", "wrong", "a") is None
    assert creds("alice", "wrong", "a") is None
    assert creds("alice", "right", "a") is not None
    assert creds("alice", "right", "a") is not None   # cached
    assert calls == ["wrong", "wrong", "right"]
    answers["right"] = _Answer(401)                     # disabled meanwhile
    now[0] += 29.9
    assert creds("alice", "right", "a") is not None   # still inside the TTL
    now[0] += 0.2
    assert creds("alice", "right", "a") is None
