"""Forged and misused JWTs on the API (token and catalog) and on refresh."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from berth.common.signing import generate_key
from cryptography.hazmat.primitives import serialization

from tests.security.conftest import ISSUER, REGISTRY, Berth, assert_error_shape, basic


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(berth: Berth, **over: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": "berth-api", "sub": "root", "uid": berth.ids["root"],
            "adm": True, "bot": False, "iat": now, "nbf": now, "exp": now + 300,
            "jti": "x"}
    base.update(over)
    return base


def forged(berth: Berth, kind: str) -> str:
    kid = berth.signer.current.kid
    key = berth.signer.current.key
    if kind == "alg_none":
        return f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_b64(claims(berth))}."
    if kind == "hs256_with_public_key":
        pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        header = {"alg": "HS256", "typ": "JWT", "kid": kid}
        signing_input = f"{_b64(header)}.{_b64(claims(berth))}".encode()
        import hashlib
        import hmac

        sig = hmac.new(pem, signing_input, hashlib.sha256).digest()
        return signing_input.decode() + "." + \
            base64.urlsafe_b64encode(sig).rstrip(b"=").decode()
    if kind == "unknown_kid":
        return jwt.encode(claims(berth), generate_key("RS256"), algorithm="RS256",
                          headers={"kid": "AAAA:BBBB"})
    if kind == "known_kid_other_key":
        return jwt.encode(claims(berth), generate_key("RS256"), algorithm="RS256",
                          headers={"kid": kid})
    now = int(time.time())
    over = {"expired": {"exp": now - 10, "iat": now - 400, "nbf": now - 400},
            "not_yet_valid": {"nbf": now + 600, "iat": now + 600, "exp": now + 900},
            "wrong_aud": {"aud": REGISTRY}, "wrong_iss": {"iss": "someone-else"},
            "no_exp": {"exp": None}}[kind]
    body = {k: v for k, v in claims(berth, **over).items() if v is not None}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})


KINDS = ["alg_none", "hs256_with_public_key", "unknown_kid", "known_kid_other_key",
         "expired", "not_yet_valid", "wrong_aud", "wrong_iss", "no_exp"]


@pytest.mark.parametrize("kind", KINDS)
def test_forged_jwt_is_refused_by_the_token_service(berth: Berth, kind: str) -> None:
    resp = berth.token_call("GET", "/api/v1/users",
                            headers={"Authorization": f"Bearer {forged(berth, kind)}"})
    assert_error_shape(resp, 401)


@pytest.mark.parametrize("kind", KINDS)
def test_forged_jwt_is_refused_by_the_catalog(berth: Berth, kind: str) -> None:
    resp = berth.catalog_call("GET", "/api/v1/teams",
                              headers={"Authorization": f"Bearer {forged(berth, kind)}"})
    assert_error_shape(resp, 401)


def test_the_control_jwt_signed_properly_is_accepted(berth: Berth) -> None:
    token = jwt.encode(claims(berth), berth.signer.current.key, algorithm="RS256",
                       headers={"kid": berth.signer.current.kid})
    resp = berth.token_call("GET", "/api/v1/users",
                            headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200


def _registry_jwt(berth: Berth) -> str:
    resp = berth.registry_token("root", "repository:root/app:pull")
    assert resp.status_code == 200
    return str(resp.json()["token"])


def test_registry_token_is_not_an_api_token(berth: Berth) -> None:
    token = _registry_jwt(berth)
    for call, path in ((berth.token_call, "/api/v1/users"),
                       (berth.catalog_call, "/api/v1/teams")):
        resp = call("GET", path, headers={"Authorization": f"Bearer {token}"})
        assert_error_shape(resp, 401)


def test_registry_token_is_not_a_password(berth: Berth) -> None:
    token = _registry_jwt(berth)
    assert_error_shape(berth.token_call("POST", "/api/v1/auth/token",
                                        headers=basic("root", token)), 401)
    resp = berth.token_call("GET", "/v2/token", params={"service": REGISTRY},
                            headers=basic("root", token))
    assert_error_shape(resp, 401)
    assert_error_shape(berth.catalog_call("GET", "/api/v1/teams",
                                          headers={"Portus-Auth": f"root:{token}"}), 401)


def test_api_jwt_is_not_a_password(berth: Berth) -> None:
    assert_error_shape(berth.token_call("POST", "/api/v1/auth/token",
                                        headers=basic("root", berth.jwt("root"))), 401)


def _refresh(berth: Berth, token: str) -> Any:
    return berth.token_call("POST", "/api/v1/auth/token",
                            json={"grant_type": "refresh_token", "refresh_token": token})


def test_refresh_token_works_once_and_only_as_a_refresh_token(berth: Berth) -> None:
    pair = berth.token_call("POST", "/api/v1/auth/token",
                            headers=basic("alice", "alice-password-1")).json()
    first = _refresh(berth, pair["refresh_token"])
    assert first.status_code == 200
    assert_error_shape(_refresh(berth, pair["refresh_token"]), 401)  # spent
    for fake in (pair["token"], _registry_jwt(berth), pair["refresh_token"] + "x",
                 forged(berth, "alg_none")):
        assert_error_shape(_refresh(berth, fake), 401)
    resp = berth.token_call("GET", "/api/v1/users",
                            headers={"Authorization": f"Bearer {pair['refresh_token']}"})
    assert_error_shape(resp, 401)


def test_api_refresh_token_is_not_a_registry_refresh_token(berth: Berth) -> None:
    pair = berth.token_call("POST", "/api/v1/auth/token",
                            headers=basic("alice", "alice-password-1")).json()
    resp = berth.token_call("POST", "/v2/token", data={
        "grant_type": "refresh_token", "refresh_token": pair["refresh_token"],
        "service": REGISTRY, "scope": "repository:alice/app:pull"})
    assert_error_shape(resp, 401)
