"""``python -m berth.catalog migrate|worker``."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import structlog
from berth.catalog.config import CatalogConfig
from berth.catalog.consumers import CONSUMER, make_handler
from berth.catalog.models import PROCESSED
from berth.catalog.runtime import catalog_runtime, default_registry_spec, knobs_of
from berth.catalog.services.registries import ensure_registry
from berth.common.config import load
from berth.common.consumer import ConsumerWorker, stop_on_signals
from berth.common.db import transaction
from berth.common.logging import configure_logging
from berth.common.migrations import upgrade

log = structlog.get_logger("berth.catalog")
MIGRATIONS = Path(__file__).parent / "migrations"


def migrate(config: CatalogConfig) -> None:
    """Run the migrations, then make sure the default registry exists."""
    if config.database_url.startswith("sqlite:///"):
        Path(config.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True)
    runtime = catalog_runtime(config)
    upgrade(MIGRATIONS, runtime.engine, "catalog")
    with transaction(runtime.sessions) as session:
        ensure_registry(session, default_registry_spec(config), sync=True)
    log.info("migrated")


def worker(config: CatalogConfig, stop: threading.Event | None = None) -> None:
    """Consume the catalog queue and relay the outbox until SIGTERM."""
    runtime = catalog_runtime(config)
    stop = stop or stop_on_signals()
    consumer = ConsumerWorker(bus=runtime.bus, name=CONSUMER,
                              handler=make_handler(runtime.outbox, knobs_of(config)),
                              factory=runtime.sessions, processed=PROCESSED)
    log.info("worker_started")
    consumer.run(stop, idle=lambda: runtime.outbox.relay(runtime.sessions))
    runtime.bus.close()
    log.info("worker_stopped")


def webhooks(config: CatalogConfig, stop: threading.Event | None = None) -> None:
    """Schedule deliveries from the ``webhooks`` queue and send them until SIGTERM."""
    # Imported here: the catalog's consumer never needs the webhook machinery.
    from berth.catalog.webhooks.dispatcher import Dispatcher
    from berth.catalog.webhooks.runtime import webhook_runtime
    from berth.catalog.webhooks.schedule import CONSUMER as WEBHOOKS_CONSUMER
    from berth.catalog.webhooks.schedule import make_handler as webhook_handler
    from berth.catalog.webhooks.sender import Sender

    runtime = catalog_runtime(config)
    hooks = webhook_runtime(config)
    stop = stop or stop_on_signals()
    dispatcher = Dispatcher(runtime.sessions,
                            Sender(hooks.addresses, config.webhook_timeout),
                            hooks.vault, hooks.retry)
    sending = threading.Thread(target=dispatcher.run, args=(stop,),
                               name="webhook-dispatcher", daemon=True)
    sending.start()
    consumer = ConsumerWorker(bus=runtime.bus, name=WEBHOOKS_CONSUMER,
                              handler=webhook_handler(), factory=runtime.sessions,
                              processed=PROCESSED)
    log.info("webhooks_started")
    consumer.run(stop)
    sending.join()
    runtime.bus.close()
    log.info("webhooks_stopped")


COMMANDS = {"migrate": migrate, "worker": worker, "webhooks": webhooks}


def main(argv: list[str]) -> int:
    """Entry point."""
    if len(argv) != 1 or argv[0] not in COMMANDS:
        print("usage: python -m berth.catalog migrate|worker|webhooks", file=sys.stderr)
        return 2
    config = load(CatalogConfig)
    configure_logging("catalog", config.log_level)
    COMMANDS[argv[0]](config)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
