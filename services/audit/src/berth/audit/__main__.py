"""``python -m berth.audit migrate|worker``."""

from __future__ import annotations

import sys

from berth.audit.config import AuditConfig
from berth.audit.schema import migrate
from berth.common.config import ConfigError, load
from berth.common.consumer import stop_on_signals
from berth.common.logging import configure_logging

USAGE = "usage: python -m berth.audit migrate|worker"


def main(argv: list[str]) -> int:
    """Entry point; returns the exit status."""
    if len(argv) != 1 or argv[0] not in {"migrate", "worker"}:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        config = load(AuditConfig)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging("audit", config.log_level)
    if argv[0] == "migrate":
        migrate(config.database_url)
        return 0
    from berth.audit.worker import run

    run(config, stop_on_signals())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
