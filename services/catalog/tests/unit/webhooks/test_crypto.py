"""The webhook key, the vault and the body signature."""

from __future__ import annotations

import hashlib
import hmac
import stat
from pathlib import Path

import pytest
from berth.catalog.webhooks.crypto import (
    Vault,
    key_path,
    load_fernet,
    new_secret,
    signature,
)
from cryptography.fernet import Fernet


def test_signature_is_the_hex_hmac_sha256_of_the_body() -> None:
    expected = hmac.new(b"k", b"body", hashlib.sha256).hexdigest()
    assert signature("k", b"body") == f"sha256={expected}"
    assert signature("k", b"body!") != signature("k", b"body")


def test_secrets_are_fresh_and_long() -> None:
    a, b = new_secret(), new_secret()
    assert a != b and len(a) == 64


def test_key_is_generated_once_private_and_reused(tmp_path: Path) -> None:
    first = Vault(load_fernet("", tmp_path))
    token = first.encrypt("pw")
    assert stat.S_IMODE(key_path(tmp_path).stat().st_mode) == 0o600
    assert Vault(load_fernet("", tmp_path)).decrypt(token) == "pw"


def test_a_configured_key_wins_and_nothing_is_written(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    vault = Vault(load_fernet(key, tmp_path))
    assert Vault(Fernet(key.encode())).decrypt(vault.encrypt("x")) == "x"
    assert not key_path(tmp_path).exists()


def test_another_key_cannot_decrypt(tmp_path: Path) -> None:
    token = Vault(load_fernet("", tmp_path)).encrypt("pw")
    other = Vault(Fernet(Fernet.generate_key()))
    with pytest.raises(ValueError):
        other.decrypt(token)
