"""The retention anchor key: configured, or generated once under BERTH_HOME."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from berth.audit.config import AuditConfig


def anchor_key_path(config: AuditConfig) -> Path:
    """Where the generated key lives when none is configured."""
    return config.home / "secrets" / "audit-anchor"


def anchor_key(config: AuditConfig) -> bytes:
    """The HMAC key of retention anchors (created on first use, mode 0600)."""
    if config.anchor_key:
        return config.anchor_key.reveal().encode()
    path = anchor_key_path(config)
    if path.exists():
        return path.read_text().strip().encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    # O_EXCL: two processes starting together keep the first one's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip().encode()
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value.encode()
