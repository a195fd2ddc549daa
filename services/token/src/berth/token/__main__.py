"""``python -m berth.token migrate|worker|keygen PATH|certbundle OUT``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)


def migrate() -> int:
    """Bring the database to the newest revision."""
    from berth.common.db import make_engine
    from berth.common.logging import configure_logging
    from berth.common.migrations import upgrade
    from berth.token.app import MIGRATIONS
    from berth.token.config import load_config

    config = load_config()
    configure_logging("token", config.log_level)
    if config.database_url.startswith("sqlite:///"):
        Path(config.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True)
    engine = make_engine(config.database_url)
    upgrade(MIGRATIONS, engine, "token")
    engine.dispose()
    log.info("migrated", service="token")
    return 0


def worker() -> int:
    """Relay the outbox until SIGTERM (the token service consumes no events)."""
    from berth.common.consumer import stop_on_signals
    from berth.common.logging import configure_logging
    from berth.common.runtime import build_runtime
    from berth.token.config import load_config
    from berth.token.models import OUTBOX

    config = load_config()
    configure_logging("token", config.log_level)
    runtime = build_runtime(config, service="token", database_url=config.database_url,
                            outbox_table=OUTBOX)
    stop = stop_on_signals()
    log.info("worker_started", service="token")
    while not stop.is_set():
        try:
            while runtime.outbox.relay(runtime.sessions) and not stop.is_set():
                pass
        except Exception as exc:  # noqa: BLE001 - broker or database blip: retry later
            log.warning("outbox_relay_failed", error=str(exc)[:200])
        stop.wait(2.0)
    runtime.bus.close()
    log.info("worker_stopped", service="token")
    return 0


def keygen(path: Path, algorithm: str) -> int:
    """Write a new private key (mode 0600); never overwrite an existing one."""
    from berth.common.signing import generate_key, private_key_pem

    if path.exists():
        print(f"{path} exists; not overwriting", file=sys.stderr)
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private_key_pem(generate_key(algorithm)))
    print(f"wrote {algorithm} key to {path}")
    return 0


def certbundle(out: Path) -> int:
    """Write the self-signed certificate of every configured key (rootcertbundle)."""
    from berth.common.signing import load_private_key, self_signed_certificate
    from berth.token.config import load_config

    config = load_config()
    pems = [self_signed_certificate(load_private_key(p), config.token_issuer)
            for p in config.key_paths]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"".join(pems))
    print(f"wrote {len(pems)} certificate(s) to {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m berth.token")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="run database migrations")
    sub.add_parser("worker", help="relay the outbox until SIGTERM")
    key = sub.add_parser("keygen", help="write a new signing key")
    key.add_argument("path", type=Path)
    key.add_argument("--algorithm", choices=("RS256", "ES256"), default="RS256")
    bundle = sub.add_parser("certbundle", help="write the registry's rootcertbundle")
    bundle.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.command == "migrate":
        return migrate()
    if args.command == "worker":
        return worker()
    if args.command == "keygen":
        return keygen(args.path, args.algorithm)
    return certbundle(args.out)


if __name__ == "__main__":
    sys.exit(main())
