"""JWT helpers: libtrust kid, pinned algorithms, rotation, JWKS round trip."""

from __future__ import annotations

import base64
import hashlib
import json

import jwt
import pytest
from berth.common.signing import (
    Signer,
    TokenInvalid,
    generate_key,
    keys_from_jwks,
    libtrust_kid,
    verify,
)
from cryptography.hazmat.primitives import serialization


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_sign_and_verify(algorithm: str) -> None:
    signer = Signer([generate_key(algorithm)])
    token, _claims = signer.sign({"sub": "alice", "aud": "svc"}, lifetime=60)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == algorithm and header["kid"] == signer.current.kid
    got = verify(token, signer.public_keys(), audience="svc")
    assert got["sub"] == "alice" and got["exp"] - got["iat"] == 60


def test_rs256_tokens_are_what_pyjwt_builds() -> None:
    # PKCS#1 v1.5 signatures are deterministic: the whole token must match.
    signer = Signer([generate_key("RS256")])
    key = signer.current
    token, claims = signer.sign({"sub": "alice", "aud": "svc", "access": []},
                                lifetime=60, now=1_700_000_000)
    assert token == jwt.encode(claims, key.key, algorithm="RS256",
                               headers={"kid": key.kid, "typ": "JWT"})


def test_es256_signature_is_jose_raw_r_s() -> None:
    # distribution (libtrust) reads the 64-byte r||s form, not DER.
    signer = Signer([generate_key("ES256")])
    token, _claims = signer.sign({"sub": "alice", "aud": "svc"}, lifetime=60)
    signature = base64.urlsafe_b64decode(token.rsplit(".", 1)[1] + "==")
    assert len(signature) == 64
    header = json.loads(base64.urlsafe_b64decode(token.split(".", 1)[0] + "=="))
    assert header == {"alg": "ES256", "kid": signer.current.kid, "typ": "JWT"}
    assert jwt.decode(token, signer.current.key.public_key(), algorithms=["ES256"],
                      audience="svc")["sub"] == "alice"


def test_kid_is_libtrust_form() -> None:
    key = generate_key("RS256")
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    expected = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()
    kid = libtrust_kid(key.public_key())
    assert kid.replace(":", "") == expected
    assert len(kid.split(":")) == 12 and all(len(p) == 4 for p in kid.split(":"))


def test_rotation_signs_with_newest_and_verifies_all() -> None:
    old, new = generate_key("RS256"), generate_key("ES256")
    before = Signer([old]).sign({"sub": "a", "aud": "x"}, lifetime=60)[0]
    rotated = Signer([old, new])
    after = rotated.sign({"sub": "a", "aud": "x"}, lifetime=60)[0]
    assert jwt.get_unverified_header(after)["alg"] == "ES256"
    for token in (before, after):
        assert verify(token, rotated.public_keys(), audience="x")["sub"] == "a"


def test_algorithm_confusion_is_refused() -> None:
    signer = Signer([generate_key("RS256")])
    kid = signer.current.kid
    forged = jwt.encode({"sub": "root", "aud": "x", "exp": 9999999999, "iat": 1},
                        "secret", algorithm="HS256", headers={"kid": kid})
    with pytest.raises(TokenInvalid):
        verify(forged, signer.public_keys(), audience="x")
    none_alg = jwt.encode({"sub": "root", "aud": "x"}, None, algorithm="none",
                          headers={"kid": kid})
    with pytest.raises(TokenInvalid):
        verify(none_alg, signer.public_keys(), audience="x")


def test_wrong_audience_expired_and_unknown_key_are_refused() -> None:
    signer = Signer([generate_key("RS256")])
    keys = signer.public_keys()
    token = signer.sign({"sub": "a", "aud": "x"}, lifetime=60)[0]
    with pytest.raises(TokenInvalid):
        verify(token, keys, audience="other")
    expired = signer.sign({"sub": "a", "aud": "x"}, lifetime=10, now=1000)[0]
    with pytest.raises(TokenInvalid):
        verify(expired, keys, audience="x")
    with pytest.raises(TokenInvalid):
        verify(token, Signer([generate_key("RS256")]).public_keys(), audience="x")


def test_jwks_round_trip() -> None:
    signer = Signer([generate_key("RS256"), generate_key("ES256")])
    doc = json.loads(json.dumps(signer.jwks()))
    keys = keys_from_jwks(doc)
    assert set(keys) == {k.kid for k in signer.keys}
    token = signer.sign({"sub": "a", "aud": "x"}, lifetime=60)[0]
    assert verify(token, keys, audience="x")["sub"] == "a"
