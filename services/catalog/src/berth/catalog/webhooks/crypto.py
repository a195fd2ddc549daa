"""The Fernet key that encrypts webhook passwords and secrets, and the HMAC
signature of delivered bodies."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

SIGNATURE_HEADER = "X-Berth-Signature"


def key_path(home: Path) -> Path:
    """Where the generated key lives when none is configured."""
    return home / "secrets" / "webhook-key"


def load_fernet(configured: str, home: Path) -> Fernet:
    """The configured key, or the one generated once under ``home``."""
    if configured:
        return Fernet(configured.encode())
    path = key_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: the app and the worker may start together; one writes, the
        # other reads what was written.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return Fernet(path.read_text().strip().encode())
    with os.fdopen(fd, "w") as fh:
        fh.write(Fernet.generate_key().decode())
    return Fernet(path.read_text().strip().encode())


class Vault:
    """Encrypts and decrypts the secrets stored with webhooks."""

    def __init__(self, fernet: Fernet) -> None:
        self._fernet = fernet

    def encrypt(self, value: str) -> str:
        """A Fernet token of ``value``."""
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        """The clear value; ValueError when the key does not match."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("cannot decrypt with the configured key") from exc


def new_secret() -> str:
    """A fresh per-webhook signing secret."""
    return secrets.token_hex(32)


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC of body>``, the value of ``X-Berth-Signature``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"
