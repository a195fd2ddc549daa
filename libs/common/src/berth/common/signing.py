"""JWT signing and verification with pinned algorithms, the libtrust ``kid``
the registry expects, key and certificate generation, and JWKS documents."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
ALGORITHMS = ("RS256", "ES256")
_ALGORITHMS = {name: jwt.algorithms.get_default_algorithms()[name] for name in ALGORITHMS}


class TokenInvalid(Exception):
    """A JWT failed verification (signature, algorithm, audience, expiry...)."""


def libtrust_kid(public_key: PublicKey) -> str:
    """The key id docker/libtrust derives: base32(sha256(DER SPKI)[:30]) in 4s."""
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(digest[i:i + 4] for i in range(0, 48, 4))


def algorithm_for(key: PrivateKey | PublicKey) -> str:
    """RS256 for RSA keys, ES256 for P-256 keys; anything else is refused."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if key.curve.name != "secp256r1":
            raise ValueError(f"unsupported curve {key.curve.name}")
        return "ES256"
    raise ValueError(f"unsupported key type {type(key).__name__}")


def generate_key(algorithm: str = "RS256") -> PrivateKey:
    """A new signing key for ``algorithm``."""
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"unsupported algorithm {algorithm}")


def private_key_pem(key: PrivateKey) -> bytes:
    """PKCS#8 PEM of ``key`` (unencrypted; protect the file)."""
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_private_key(path: Path) -> PrivateKey:
    """Read a PEM private key (RSA or P-256)."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path}: not an RSA or EC private key")  # noqa: TRY004 (a bad file)
    algorithm_for(key)
    return key


def self_signed_certificate(key: PrivateKey, common_name: str,
                            days: int = 3650) -> bytes:
    """A PEM certificate for ``key`` (the registry's ``rootcertbundle`` entry)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


@dataclass(frozen=True)
class SigningKey:
    """A private key with its derived kid and algorithm."""

    key: PrivateKey
    kid: str
    algorithm: str

    @classmethod
    def of(cls, key: PrivateKey) -> SigningKey:
        """Wrap ``key``."""
        return cls(key=key, kid=libtrust_kid(key.public_key()),
                   algorithm=algorithm_for(key))

    @cached_property
    def _header(self) -> bytes:
        # The same for every token of this key: encoded once. Sorted keys, as
        # PyJWT writes them.
        return _b64(json.dumps({"alg": self.algorithm, "kid": self.kid, "typ": "JWT"},
                               separators=(",", ":"), sort_keys=True).encode())

    def encode(self, claims: dict[str, Any]) -> str:
        """The compact JWS of ``claims``: what ``jwt.encode`` builds, without
        re-encoding the constant header and re-resolving the algorithm per token."""
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = self._header + b"." + payload
        # PyJWT's algorithm objects produce the JOSE form (raw r||s for ECDSA).
        signature = _ALGORITHMS[self.algorithm].sign(signing_input, self.key)
        return (signing_input + b"." + _b64(signature)).decode()


class Signer:
    """Signs with the newest key; publishes every key (rotation)."""

    def __init__(self, keys: Sequence[PrivateKey]) -> None:
        if not keys:
            raise ValueError("at least one signing key is required")
        self.keys = [SigningKey.of(k) for k in keys]

    @property
    def current(self) -> SigningKey:
        """The key new tokens are signed with (the last one configured)."""
        return self.keys[-1]

    def sign(self, claims: dict[str, Any], *, lifetime: int,
             now: int | None = None) -> tuple[str, dict[str, Any]]:
        """Sign ``claims`` adding iat/nbf/exp/jti; return (token, full claims)."""
        issued = int(now if now is not None else dt.datetime.now(dt.UTC).timestamp())
        full = {"iat": issued, "nbf": issued - 1, "exp": issued + lifetime,
                "jti": uuid.uuid4().hex, **claims}
        return self.current.encode(full), full

    def public_keys(self) -> dict[str, PublicKey]:
        """kid -> public key, for verifiers in this process."""
        return {k.kid: k.key.public_key() for k in self.keys}

    def jwks(self) -> dict[str, Any]:
        """The JWKS document of every configured key."""
        return jwks(self.public_keys())


def jwks(keys: dict[str, PublicKey]) -> dict[str, Any]:
    """A JWKS document for ``keys`` (kid -> public key)."""
    out = []
    for kid, pub in keys.items():
        alg = algorithm_for(pub)
        cls = jwt.algorithms.RSAAlgorithm if alg == "RS256" else jwt.algorithms.ECAlgorithm
        jwk = json.loads(cls.to_jwk(pub))
        jwk.update({"kid": kid, "alg": alg, "use": "sig"})
        out.append(jwk)
    return {"keys": out}


def keys_from_jwks(doc: dict[str, Any]) -> dict[str, PublicKey]:
    """Parse a JWKS document into kid -> public key (unknown algorithms skipped)."""
    keys: dict[str, PublicKey] = {}
    for jwk in doc.get("keys", []):
        alg = jwk.get("alg")
        if alg not in ALGORITHMS or not jwk.get("kid"):
            continue
        raw = json.dumps(jwk)
        cls = jwt.algorithms.RSAAlgorithm if alg == "RS256" else jwt.algorithms.ECAlgorithm
        keys[jwk["kid"]] = cls.from_jwk(raw)  # type: ignore[assignment]
    return keys


def verify(token: str, keys: dict[str, PublicKey], *, audience: str | Iterable[str],
           issuer: str | None = None, leeway: int = 5) -> dict[str, Any]:
    """Verify ``token`` against ``keys`` by kid, pinning the key's own algorithm."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenInvalid(f"malformed token: {exc}") from exc
    pub = keys.get(str(header.get("kid", "")))
    if pub is None:
        raise TokenInvalid("unknown key id")
    alg = algorithm_for(pub)
    if header.get("alg") != alg:
        raise TokenInvalid("algorithm does not match the key")
    try:
        claims: dict[str, Any] = jwt.decode(
            token, pub, algorithms=[alg],
            audience=audience if isinstance(audience, str) else list(audience),
            issuer=issuer, leeway=leeway,
            options={"require": ["exp", "iat", "aud", "sub"]})
    except jwt.PyJWTError as exc:
        raise TokenInvalid(str(exc)) from exc
    return claims
