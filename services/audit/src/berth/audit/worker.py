"""``python -m berth.audit worker``: the consumer and the retention timer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog
from sqlalchemy.orm import Session, sessionmaker

from berth.audit import metrics
from berth.audit.config import AuditConfig
from berth.audit.consumers import CONSUMER, make_batch_handler, make_handler
from berth.audit.forwarding import SyslogForwarder
from berth.audit.keys import anchor_key
from berth.audit.models import OUTBOX, PROCESSED
from berth.audit.services.retention import prune
from berth.common.bus import Bus
from berth.common.consumer import ConsumerWorker
from berth.common.db import transaction
from berth.common.runtime import build_runtime

log = structlog.get_logger(__name__)


def retention_tick(factory: sessionmaker[Session], config: AuditConfig, key: bytes,
                   clock: Callable[[], float] = time.monotonic) -> Callable[[], None]:
    """An idle callback that prunes at most once per ``retention_interval``."""
    last_run: list[float] = []

    def tick() -> None:
        if config.retention_days <= 0:
            return
        now = clock()
        if last_run and now - last_run[0] < config.retention_interval:
            return
        last_run[:] = [now]
        while True:
            with transaction(factory) as session:
                pruned = prune(session, days=config.retention_days, anchor_key=key)
            if not pruned:
                return
            metrics.PRUNED.inc(pruned)

    return tick


# The audit queue receives every event, and a batch costs one chain lock and
# one insert whatever its size: take up to this many at once. The prefetch
# bounds what a worker holds unacknowledged (and what a crash redelivers).
BATCH = 256


def make_worker(bus: Bus, factory: sessionmaker[Session],
                forwarder: SyslogForwarder | None = None) -> ConsumerWorker:
    """The consumer of queue ``berth.audit`` (bound to every event type)."""
    return ConsumerWorker(bus=bus, name=CONSUMER, handler=make_handler(forwarder),
                          batch_handler=make_batch_handler(forwarder),
                          factory=factory, processed=PROCESSED,
                          prefetch=BATCH, batch=BATCH)


def run(config: AuditConfig, stop: threading.Event) -> None:
    """Consume and prune until ``stop`` is set."""
    runtime = build_runtime(config, service="audit", database_url=config.database_url,
                            outbox_table=OUTBOX)
    key = anchor_key(config)
    forwarder = (SyslogForwarder.from_url(config.syslog_url, config.syslog_app_name)
                 if config.syslog_url else None)
    worker = make_worker(runtime.bus, runtime.sessions, forwarder)
    log.info("audit_worker_started", retention_days=config.retention_days,
             forwarding=bool(forwarder))
    try:
        worker.run(stop, idle=retention_tick(runtime.sessions, config, key))
    finally:
        if forwarder is not None:
            forwarder.close()
        runtime.bus.close()
        runtime.engine.dispose()
