"""The reconcile (Portus' crono sync, made safe).

It walks each registry's catalog page by page, lists the tags and manifest
digests of a bounded number of repositories at once, and diffs them against
the observed state a batch per transaction (services/apply.py), so memory
stays bounded whatever the registry's size. The listings run ahead of the
batch being applied (a batch and then some are in flight), so the walk costs
about what listing the registry costs, not listing plus applying. Events are
published as each batch commits (services/publisher.py).
Only differences become events. Nothing is deleted that could not be
confirmed: a repository whose listing failed is left alone, and a catalog
walk that failed part-way sweeps no vanished repository at all. Observed rows
a notification touched after the listing started are newer than the listing
and are never overwritten or removed by it.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

import structlog
from berth.common.events.sync import SyncRunFinished
from berth.common.outbox import Outbox
from berth.syncer import metrics
from berth.syncer.errors import SyncRunning
from berth.syncer.models import ObservedRepository, SyncRun
from berth.syncer.registries import Registry, RegistryDirectory
from berth.syncer.registry_client import (
    ManifestInfo,
    RegistryClient,
    RegistryError,
    RegistryNotFound,
)
from berth.syncer.services import observed
from berth.syncer.services.apply import Applier, Listing, RunStats
from berth.syncer.services.lock import RECONCILE, DbLock
from berth.syncer.services.publisher import Publisher
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

log = structlog.get_logger(__name__)

MAX_ERROR_DETAILS = 50
DELETING = frozenset({"update-delete", "on-start", "initial"})
BATCH = 50  # repositories per transaction

ClientFor = Callable[[Registry], RegistryClient]


def effective_strategy(strategy: str) -> str:
    """``update`` never deletes; every other strategy runs as ``update-delete``."""
    return "update-delete" if strategy in DELETING else "update"


def list_repository(client: RegistryClient, name: str) -> Listing:
    """Tags and digests of ``name`` (run in the thread pool)."""
    listing = Listing(name=name, listed_at=observed.utcnow())
    tags: dict[str, ManifestInfo] = {}
    try:
        for page in client.tags(name):
            for tag in page:
                try:
                    tags[tag] = client.manifest(name, tag)
                except RegistryNotFound:
                    continue  # deleted between the listing and the HEAD: gone
    except RegistryNotFound:
        tags = {}  # the registry says the repository has no tags: confirmed
    except RegistryError as exc:
        metrics.REGISTRY_ERRORS.labels(type(exc).__name__).inc()
        listing.error = f"{type(exc).__name__}: {exc}"
        return listing
    listing.tags = tags
    return listing


class Reconciler:
    """Starts and runs reconciles; one at a time across replicas (DbLock)."""

    def __init__(self, *, factory: sessionmaker[Session], outbox: Outbox,
                 directory: RegistryDirectory, client_for: ClientFor,
                 strategy: str, parallelism: int, lock_ttl: float) -> None:
        self.factory = factory
        self.outbox = outbox
        self.directory = directory
        self.client_for = client_for
        self.strategy = strategy
        self.parallelism = parallelism
        self.lock_ttl = lock_ttl
        self.owner_base = f"{socket.gethostname()}:{os.getpid()}"

    # -- starting ----------------------------------------------------------
    def start(self, triggered_by: str, strategy: str | None = None
              ) -> tuple[SyncRun, DbLock]:
        """Take the lock and record a new run; raise SyncRunning if busy."""
        lock = DbLock(self.factory, RECONCILE,
                      f"{self.owner_base}:{uuid.uuid4().hex[:12]}", self.lock_ttl)
        if not lock.acquire():
            _owner, run_id = lock.holder()
            raise SyncRunning("a reconcile is already running",
                              detail={"run_id": run_id} if run_id else {})
        try:
            with self.factory.begin() as session:
                # We hold the lock, so any run still "running" died with its process.
                session.execute(update(SyncRun).where(SyncRun.status == "running")
                                .values(status="abandoned"))
                run = SyncRun(started_at=observed.utcnow(), status="running",
                              strategy=effective_strategy(strategy or self.strategy),
                              triggered_by=triggered_by[:255], repositories=0, tags=0,
                              added=0, removed=0, changed=0, errors=0,
                              error_details=[])
                session.add(run)
                session.flush()
            lock.set_run(run.id)
        except Exception:
            lock.release()
            raise
        return run, lock

    def run_now(self, triggered_by: str, strategy: str | None = None) -> SyncRun:
        """Start and run to the end in this thread."""
        run, lock = self.start(triggered_by, strategy)
        return self.execute(run.id, lock)

    def run_in_background(self, triggered_by: str,
                          strategy: str | None = None) -> SyncRun:
        """Start now, run in a thread; return the new run at once."""
        run, lock = self.start(triggered_by, strategy)
        thread = threading.Thread(target=self.execute, args=(run.id, lock),
                                  name=f"reconcile-{run.id}", daemon=True)
        thread.start()
        return run

    # -- running -----------------------------------------------------------
    def execute(self, run_id: int, lock: DbLock) -> SyncRun:
        """Run the reconcile recorded as ``run_id``; always releases ``lock``."""
        started = time.monotonic()
        stats = RunStats()
        status = "failed"
        with self.factory() as session:
            run = session.get(SyncRun, run_id)
            assert run is not None
            started_at, deletes = run.started_at, run.strategy == "update-delete"
        log.info("sync_started", run_id=run_id, deletes=deletes)
        publisher = Publisher(self.outbox, self.factory)
        publisher.start()
        try:
            for registry in self.directory.all():
                self._registry(run_id, started_at, registry, deletes, stats, lock,
                               publisher)
            status = "partial" if stats.errors else "succeeded"
        except Exception as exc:
            log.exception("sync_failed", run_id=run_id)
            stats.error("*", "run", f"{type(exc).__name__}: {exc}")
        finally:
            duration = time.monotonic() - started
            try:
                run = self._finish(run_id, status, stats, duration)
            finally:
                lock.release()
                publisher.finish()
        metrics.SYNC_RUNS.labels(status).inc()
        metrics.SYNC_DURATION.observe(duration)
        log.info("sync_finished", run_id=run_id, status=status,
                 repositories=stats.repositories, added=stats.added,
                 removed=stats.removed, changed=stats.changed,
                 errors=len(stats.errors), duration=round(duration, 3))
        return run

    def _registry(self, run_id: int, started_at: datetime, registry: Registry,
                  deletes: bool, stats: RunStats, lock: DbLock,
                  publisher: Publisher) -> None:
        if not registry.url:
            stats.error(registry.service, "config", "no URL known for this registry")
            return
        client = self.client_for(registry)
        applier = Applier(self.factory, self.outbox.table, run_id, registry.service,
                          deletes, committed=publisher.committed)
        complete = True
        pending: deque[Future[Listing]] = deque()
        done: list[Listing] = []

        last_renew = [time.monotonic()]

        def keep_lock() -> None:
            if time.monotonic() - last_renew[0] > self.lock_ttl / 3:
                last_renew[0] = time.monotonic()
                if not lock.renew():
                    raise RuntimeError("reconcile lock lost")

        def take(limit: int) -> None:
            # Bounded look-ahead: while a batch is applied, the pool keeps
            # listing the next one (a batch plus 2x parallelism submitted), so
            # the HTTP threads never wait for the database; memory stays
            # bounded whatever the registry's size.
            while len(pending) > limit:
                done.append(pending.popleft().result())
                if len(done) >= BATCH:
                    applier.apply(done, stats)
                    done.clear()
                    keep_lock()

        with ThreadPoolExecutor(max_workers=self.parallelism,
                                thread_name_prefix="reconcile") as pool:
            try:
                for page in client.catalog():
                    for name in page:
                        pending.append(pool.submit(list_repository, client, name))
                        take(BATCH + self.parallelism * 2)
                    keep_lock()
            except RegistryError as exc:
                complete = False
                metrics.REGISTRY_ERRORS.labels(type(exc).__name__).inc()
                stats.error(registry.service, "catalog", f"{type(exc).__name__}: {exc}")
            take(0)
            if done:
                applier.apply(done, stats)
        if deletes and complete:
            self._sweep(applier, started_at, stats)

    def _sweep(self, applier: Applier, started_at: datetime, stats: RunStats) -> None:
        """Forget repositories the complete catalog walk no longer listed."""
        while True:
            with self.factory() as session:
                repos = list(session.scalars(
                    select(ObservedRepository)
                    .where(ObservedRepository.service == applier.registry,
                           or_(ObservedRepository.last_seen_run.is_(None),
                               ObservedRepository.last_seen_run != applier.run_id),
                           ObservedRepository.updated_at < started_at)
                    .order_by(ObservedRepository.id).limit(BATCH)))
                if not repos:
                    return
                events = []
                for repo in repos:
                    for row in observed.tags_of(session, repo).values():
                        events.append(applier.removal(repo.name, row))
                    observed.forget_repository(session, repo)
                rows = applier.store(session, events, observed.utcnow())
                session.commit()
            if applier.committed is not None:
                applier.committed(rows)
            stats.removed += len(events)
            metrics.SYNC_CHANGES.labels("removed").inc(len(events))

    def _finish(self, run_id: int, status: str, stats: RunStats,
                duration: float) -> SyncRun:
        with self.factory() as session:
            run = session.get(SyncRun, run_id)
            assert run is not None
            run.status = status
            run.finished_at = observed.utcnow()
            run.duration = round(duration, 3)
            run.repositories = stats.repositories
            run.tags = stats.tags
            run.added = stats.added
            run.removed = stats.removed
            run.changed = stats.changed
            run.errors = len(stats.errors)
            run.error_details = stats.errors[:MAX_ERROR_DETAILS]
            noteworthy = (stats.added or stats.removed or stats.changed or stats.errors
                          or not run.triggered_by.startswith("system"))
            if noteworthy:
                self.outbox.add(session, SyncRunFinished(
                    run_id=run.id, status=status, strategy=run.strategy,
                    triggered_by=run.triggered_by, repositories=stats.repositories,
                    tags=stats.tags, added=stats.added, removed=stats.removed,
                    changed=stats.changed, errors=len(stats.errors),
                    duration=run.duration),
                    correlation_id=f"sync-run-{run_id}")
            session.commit()
            return run
