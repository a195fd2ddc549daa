"""``python -m berth.syncer scanner``: queue pushed digests from the bus and
scan them, until SIGTERM."""

from __future__ import annotations

import threading

import structlog
from berth.common.consumer import ConsumerWorker
from berth.common.runtime import build_runtime
from berth.syncer.config import SyncerConfig
from berth.syncer.models import OUTBOX, PROCESSED
from berth.syncer.scanning.consumer import make_handler
from berth.syncer.scanning.runner import ScanRunner
from berth.syncer.scanning.scanner import build_scanner
from berth.syncer.wiring import ClientPool, build_directory

log = structlog.get_logger(__name__)


def scan_loop(runner: ScanRunner, stop: threading.Event, every: float) -> None:
    """Scan whatever is queued; look again every ``every`` seconds."""
    while not stop.is_set():
        try:
            handled = runner.run_pending(stop)
        except Exception:
            log.exception("scan_loop_failed")
            handled = 0
        if not handled:
            stop.wait(every)


def run_scanner(config: SyncerConfig, stop: threading.Event) -> None:
    """Consume the ``scanner`` queue and run scans in a second thread."""
    runtime = build_runtime(config, service="syncer", database_url=config.database_url,
                            outbox_table=OUTBOX)
    scanner = build_scanner(config)
    runner = ScanRunner(sessions=runtime.sessions, directory=build_directory(config),
                        client_for=ClientPool(config), scanner=scanner,
                        stale_after=config.scan_stale_after)
    scanner.database_version()  # load now: a broken directory shows at start
    info = scanner.database_info()
    log.info("scanner_started", backend=scanner.name, database=info)
    if not info["documents"]:
        log.warning("osv_database_empty", directory=str(config.osv_dir))
    loop = threading.Thread(target=scan_loop, name="scan-loop",
                            args=(runner, stop, config.scan_poll_interval), daemon=True)
    loop.start()
    consumer = ConsumerWorker(bus=runtime.bus, name="scanner",
                              handler=make_handler(config.scan_on_push),
                              factory=runtime.sessions, processed=PROCESSED)
    consumer.run(stop)
    loop.join(timeout=30.0)
    runtime.bus.close()
    runtime.engine.dispose()
