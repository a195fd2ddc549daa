"""deploy/compose/init.py: keys, certificate bundle and secrets, kept across runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from berth.common.signing import load_private_key
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.deploy.manifests import ROOT

INIT = ROOT / "deploy" / "compose" / "init.py"


def run_init(state: Path, keys: str = "") -> str:
    env = {**os.environ, "BERTH_STATE_DIR": str(state), "BERTH_TOKEN_SIGNING_KEYS": keys,
           "BERTH_HOME": str(state.parent / "home")}
    result = subprocess.run([sys.executable, str(INIT)], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _spki(pem_key: Path) -> bytes:
    return load_private_key(pem_key).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _bundle(state: Path) -> list[bytes]:
    certs = x509.load_pem_x509_certificates((state / "keys" / "token-bundle.pem").read_bytes())
    return [c.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
            for c in certs]


def test_first_run_generates_key_bundle_and_secrets(tmp_path: Path) -> None:
    state = tmp_path / "state"
    run_init(state)
    key = state / "keys" / "token-signing.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    assert _bundle(state) == [_spki(key)]
    for name in ("internal", "notify", "registry-http", "audit-anchor", "webui"):
        secret = state / "secrets" / name
        assert secret.stat().st_mode & 0o777 == 0o600
        assert len(secret.read_text().strip()) >= 32


def test_second_run_keeps_keys_and_secrets(tmp_path: Path) -> None:
    state = tmp_path / "state"
    run_init(state)
    before = {p: p.read_bytes() for p in (state / "secrets").iterdir()}
    key = (state / "keys" / "token-signing.pem").read_bytes()
    out = run_init(state)
    assert "generated" not in out
    assert {p: p.read_bytes() for p in (state / "secrets").iterdir()} == before
    assert (state / "keys" / "token-signing.pem").read_bytes() == key


def test_adding_a_key_rotates_with_both_in_the_bundle(tmp_path: Path) -> None:
    state = tmp_path / "state"
    old = state / "keys" / "token-signing.pem"
    new = state / "keys" / "token-signing-2.pem"
    run_init(state, keys=str(old))
    run_init(state, keys=f"{old},{new}")
    assert _bundle(state) == [_spki(old), _spki(new)]


def test_a_missing_key_outside_the_state_volume_is_an_error(tmp_path: Path) -> None:
    env = {**os.environ, "BERTH_STATE_DIR": str(tmp_path / "state"),
           "BERTH_TOKEN_SIGNING_KEYS": str(tmp_path / "elsewhere.pem")}
    result = subprocess.run([sys.executable, str(INIT)], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "does not exist" in result.stderr
