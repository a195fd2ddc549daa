"""One-shot start-up step of docker-compose: everything Berth's containers share.

Run in the token image, with its own commands (`python -m berth.token keygen`
and `certbundle`) for the keys. It writes, under
BERTH_STATE_DIR (default /run/berth, a named volume), what `make run`
generates under BERTH_HOME:

  keys/<each key of BERTH_TOKEN_SIGNING_KEYS>   created when missing
  keys/token-bundle.pem                         one certificate per key, rebuilt
  secrets/internal, notify, registry-http, audit-anchor, webui   created once

Existing keys and secrets are kept, so re-running it (every `docker compose
up`) is safe; adding a key path to BERTH_TOKEN_SIGNING_KEYS is how keys rotate.
Files are handed to the services' unprivileged user (BERTH_STATE_UID).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

SECRETS = ("internal", "notify", "registry-http", "audit-anchor", "webui")
BUNDLE = "token-bundle.pem"


def _write(path: Path, data: bytes, mode: int, uid: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    _own(tmp, mode, uid)
    tmp.replace(path)


def _own(path: Path, mode: int, uid: int) -> None:
    os.chmod(path, mode)
    if os.geteuid() == 0:
        os.chown(path, uid, uid)


def signing_keys(state: Path, configured: str, algorithm: str, uid: int) -> list[Path]:
    """The configured key files, oldest first; missing ones under ``state`` are made."""
    paths = [Path(p.strip()) for p in configured.split(",") if p.strip()]
    if not paths:
        paths = [state / "keys" / "token-signing.pem"]
    for path in paths:
        if path.exists():
            continue
        if state not in path.parents:
            raise SystemExit(f"signing key {path} does not exist (only keys under "
                             f"{state} are generated)")
        _token_command("keygen", str(path), "--algorithm", algorithm)
        _own(path, 0o600, uid)
    return paths


def write_bundle(state: Path, keys: list[Path], uid: int) -> Path:
    """The registry's rootcertbundle: a certificate for every signing key."""
    bundle = state / "keys" / BUNDLE
    tmp = bundle.with_name(f".{BUNDLE}.tmp")
    _token_command("certbundle", str(tmp),
                   env={"BERTH_TOKEN_SIGNING_KEYS": ",".join(str(p) for p in keys)})
    _own(tmp, 0o644, uid)
    # rename: the registry never reads a half-written bundle.
    tmp.replace(bundle)
    return bundle


def _token_command(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run([sys.executable, "-m", "berth.token", *args],
                   env={**os.environ, **(env or {})}, check=True)


def ensure_secrets(state: Path, uid: int) -> None:
    """Random shared secrets, created once and then kept."""
    for name in SECRETS:
        path = state / "secrets" / name
        if not path.exists():
            _write(path, secrets.token_urlsafe(32).encode() + b"\n", 0o600, uid)
            print(f"generated secret {name}", flush=True)


def main() -> int:
    """Entry point: generate what is missing, rebuild the bundle."""
    state = Path(os.environ.get("BERTH_STATE_DIR", "/run/berth"))
    uid = int(os.environ.get("BERTH_STATE_UID", "10001"))
    state.mkdir(parents=True, exist_ok=True)
    for sub in ("keys", "secrets"):
        (state / sub).mkdir(exist_ok=True)
        _own(state / sub, 0o755, uid)
    keys = signing_keys(state, os.environ.get("BERTH_TOKEN_SIGNING_KEYS", ""),
                        os.environ.get("BERTH_TOKEN_ALGORITHM", "RS256"), uid)
    bundle = write_bundle(state, keys, uid)
    ensure_secrets(state, uid)
    print(f"{len(keys)} signing key(s); bundle {bundle}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
