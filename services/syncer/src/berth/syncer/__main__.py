"""``python -m berth.syncer migrate|worker|scanner|osv-refresh``."""

from __future__ import annotations

import sys
from pathlib import Path

from berth.common.consumer import stop_on_signals
from berth.common.db import make_engine
from berth.common.logging import configure_logging
from berth.common.migrations import upgrade
from berth.syncer.config import load_config

MIGRATIONS = Path(__file__).parent / "migrations"
USAGE = "usage: python -m berth.syncer migrate|worker|scanner|osv-refresh"
COMMANDS = {"migrate", "worker", "scanner", "osv-refresh"}


def main(argv: list[str]) -> int:
    """Run one command; return the exit status."""
    if len(argv) != 1 or argv[0] not in COMMANDS:
        print(USAGE, file=sys.stderr)
        return 2
    config = load_config()
    configure_logging("syncer", config.log_level)
    if argv[0] == "migrate":
        if config.database_url.startswith("sqlite:///"):
            Path(config.database_url.removeprefix("sqlite:///")).parent.mkdir(
                parents=True, exist_ok=True)
        engine = make_engine(config.database_url)
        try:
            upgrade(MIGRATIONS, engine, "syncer")
        finally:
            engine.dispose()
        return 0
    if argv[0] == "osv-refresh":
        from berth.syncer.scanning.refresh import main as refresh

        return refresh(config)
    if argv[0] == "scanner":
        from berth.syncer.scanning.worker import run_scanner

        run_scanner(config, stop_on_signals())
        return 0
    from berth.syncer.worker import run_worker

    run_worker(config, stop_on_signals())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
