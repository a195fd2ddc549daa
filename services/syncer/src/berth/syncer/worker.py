"""``python -m berth.syncer worker``: the bus consumer, the outbox relay and
the reconcile timer, until SIGTERM."""

from __future__ import annotations

import threading
from datetime import timedelta

import structlog
from berth.common.consumer import ConsumerWorker
from berth.common.runtime import Runtime, build_runtime
from berth.syncer.wiring import build_reconciler
from berth.syncer.config import SyncerConfig
from berth.syncer.consumers import make_handler
from berth.syncer.errors import SyncRunning
from berth.syncer.models import OUTBOX, PROCESSED, SeenNotification
from berth.syncer.services import observed
from berth.syncer.services.manifests import ManifestService
from berth.syncer.services.reconcile import Reconciler
from berth.syncer.wiring import ClientPool, build_directory
from sqlalchemy import delete

log = structlog.get_logger(__name__)
# The registry retries a notification for a while, not for weeks.
SEEN_RETENTION = timedelta(days=14)


class ReconcileTimer:
    """Runs reconciles per the strategy (Portus' meanings)."""

    def __init__(self, reconciler: Reconciler, runtime: Runtime,
                 config: SyncerConfig) -> None:
        self.reconciler = reconciler
        self.runtime = runtime
        self.config = config

    def run(self, stop: threading.Event) -> None:
        """Until ``stop``: once at start and/or every interval."""
        strategy = self.config.sync_strategy
        if strategy in ("on-start", "initial"):
            # One update-delete at start; `initial` only into an empty state.
            if strategy == "initial":
                with self.runtime.sessions() as session:
                    if not observed.is_empty(session):
                        log.info("sync_initial_skipped")
                        return
            self._once("system:start")
            return
        if self.config.sync_on_start:
            self._once("system:start")
        while not stop.wait(self.config.sync_interval):
            self._once("system:timer")

    def _once(self, trigger: str) -> None:
        try:
            self.reconciler.run_now(trigger)
        except SyncRunning:
            log.info("sync_skipped_already_running", trigger=trigger)
        except Exception:
            log.exception("sync_timer_run_failed", trigger=trigger)


def run_worker(config: SyncerConfig, stop: threading.Event) -> None:
    """Consume the ``syncer`` queue, relay the outbox, run the timer."""
    runtime = build_runtime(config, service="syncer", database_url=config.database_url,
                            outbox_table=OUTBOX)
    directory = build_directory(config)
    clients = ClientPool(config)
    reconciler = build_reconciler(config, runtime, directory, clients)
    timer = threading.Thread(target=ReconcileTimer(reconciler, runtime, config).run,
                             args=(stop,), name="reconcile-timer", daemon=True)
    timer.start()

    def idle() -> None:
        runtime.outbox.relay(runtime.sessions)
        with runtime.sessions.begin() as session:
            session.execute(delete(SeenNotification).where(
                SeenNotification.seen_at < observed.utcnow() - SEEN_RETENTION))

    consumer = ConsumerWorker(
        bus=runtime.bus, name="syncer",
        handler=make_handler(ManifestService(directory, clients), directory),
        factory=runtime.sessions, processed=PROCESSED)
    log.info("worker_started", strategy=config.sync_strategy,
             interval=config.sync_interval)
    consumer.run(stop, idle=idle, idle_every=5.0)
    timer.join(timeout=5.0)
    runtime.bus.close()
    runtime.engine.dispose()
