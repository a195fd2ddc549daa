"""The reconcile (Portus' crono sync, made safe).

It walks each registry's catalog page by page, lists the tags and manifest
digests of a bounded number of repositories at once, and diffs each against
the observed state, one repository per transaction, so memory stays bounded.
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
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from berth.common.events.base import Actor, Envelope, Event
from berth.common.events.registry import ManifestPushed, TagRemoved
from berth.common.events.sync import SyncRunFinished
from berth.common.outbox import Outbox
from berth.syncer import metrics
from berth.syncer.errors import SyncRunning
from berth.syncer.models import ObservedRepository, ObservedTag, SyncRun
from berth.syncer.registries import Registry, RegistryDirectory
from berth.syncer.registry_client import (
    ManifestInfo,
    RegistryClient,
    RegistryError,
    RegistryNotFound,
)
from berth.syncer.services import observed
from berth.syncer.services.lock import RECONCILE, DbLock
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

log = structlog.get_logger(__name__)

NAMESPACE = uuid.UUID("0c5e2f9a-3b7d-4f0e-8a61-5d2c9e7b4a13")
MAX_ERROR_DETAILS = 50
DELETING = frozenset({"update-delete", "on-start", "initial"})

ClientFor = Callable[[Registry], RegistryClient]


@dataclass
class Listing:
    """One repository as the registry showed it (``tags`` None = failed)."""

    name: str
    listed_at: datetime
    tags: dict[str, ManifestInfo] | None = None
    error: str | None = None


@dataclass
class RunStats:
    """Counters of one run."""

    repositories: int = 0
    tags: int = 0
    added: int = 0
    removed: int = 0
    changed: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)

    def error(self, registry: str, where: str, message: str) -> None:
        """Record a problem (details kept for the first few)."""
        self.errors.append({"registry": registry, "where": where,
                            "message": message[:300]})


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
        try:
            for registry in self.directory.all():
                self._registry(run_id, started_at, registry, deletes, stats, lock)
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
        metrics.SYNC_RUNS.labels(status).inc()
        metrics.SYNC_DURATION.observe(duration)
        log.info("sync_finished", run_id=run_id, status=status,
                 repositories=stats.repositories, added=stats.added,
                 removed=stats.removed, changed=stats.changed,
                 errors=len(stats.errors), duration=round(duration, 3))
        return run

    def _registry(self, run_id: int, started_at: datetime, registry: Registry,
                  deletes: bool, stats: RunStats, lock: DbLock) -> None:
        if not registry.url:
            stats.error(registry.service, "config", "no URL known for this registry")
            return
        client = self.client_for(registry)
        complete = True
        last_renew = time.monotonic()
        pending: deque[Future[Listing]] = deque()
        with ThreadPoolExecutor(max_workers=self.parallelism,
                                thread_name_prefix="reconcile") as pool:
            try:
                for page in client.catalog():
                    for name in page:
                        pending.append(pool.submit(list_repository, client, name))
                        # Bounded look-ahead: at most 2x parallelism listings in memory.
                        while len(pending) >= self.parallelism * 2:
                            self._apply(run_id, registry, pending.popleft().result(),
                                        deletes, stats)
                    if time.monotonic() - last_renew > self.lock_ttl / 3:
                        last_renew = time.monotonic()
                        if not lock.renew():
                            raise RuntimeError("reconcile lock lost")
            except RegistryError as exc:
                complete = False
                metrics.REGISTRY_ERRORS.labels(type(exc).__name__).inc()
                stats.error(registry.service, "catalog", f"{type(exc).__name__}: {exc}")
            while pending:
                self._apply(run_id, registry, pending.popleft().result(), deletes, stats)
        if deletes and complete:
            self._sweep(run_id, started_at, registry, stats)

    def _apply(self, run_id: int, registry: Registry, listing: Listing,
               deletes: bool, stats: RunStats) -> None:
        with self.factory() as session:
            repo = observed.repository(session, registry.service, listing.name,
                                       create=bool(listing.tags))
            if repo is not None:
                repo.last_seen_run = run_id
            if listing.tags is None:
                stats.error(registry.service, listing.name, listing.error or "failed")
                session.commit()
                return
            stats.repositories += 1
            stats.tags += len(listing.tags)
            current = observed.tags_of(session, repo) if repo is not None else {}
            for tag, info in listing.tags.items():
                row = current.get(tag)
                if row is not None and (row.digest == info.digest
                                        or row.updated_at > listing.listed_at):
                    continue
                assert repo is not None
                outcome = observed.set_tag(session, repo, tag, info.digest,
                                           info.media_type, info.size)
                if outcome == "added":
                    stats.added += 1
                else:
                    stats.changed += 1
                metrics.SYNC_CHANGES.labels(outcome).inc()
                self._publish(session, ManifestPushed(
                    registry=registry.service, repository=listing.name,
                    digest=info.digest, tag=tag, media_type=info.media_type,
                    size=info.size, origin="reconcile"),
                    run_id, registry, listing.name, tag, info.digest)
            if deletes:
                for tag, row in current.items():
                    if tag in listing.tags or row.updated_at >= listing.listed_at:
                        continue
                    self._remove(session, run_id, registry, listing.name, row, stats)
            session.commit()

    def _remove(self, session: Session, run_id: int, registry: Registry,
                repository: str, row: ObservedTag, stats: RunStats) -> None:
        self._publish(session, TagRemoved(
            registry=registry.service, repository=repository, tag=row.tag,
            digest=row.digest, origin="reconcile"),
            run_id, registry, repository, row.tag, row.digest)
        session.delete(row)
        stats.removed += 1
        metrics.SYNC_CHANGES.labels("removed").inc()

    def _sweep(self, run_id: int, started_at: datetime, registry: Registry,
               stats: RunStats) -> None:
        """Forget repositories the complete catalog walk no longer listed."""
        last_id = 0
        while True:
            with self.factory() as session:
                repos = list(session.scalars(
                    select(ObservedRepository)
                    .where(ObservedRepository.service == registry.service,
                           ObservedRepository.id > last_id,
                           or_(ObservedRepository.last_seen_run.is_(None),
                               ObservedRepository.last_seen_run != run_id),
                           ObservedRepository.updated_at < started_at)
                    .order_by(ObservedRepository.id).limit(100)))
                if not repos:
                    return
                for repo in repos:
                    last_id = repo.id
                    for row in observed.tags_of(session, repo).values():
                        self._remove(session, run_id, registry, repo.name, row, stats)
                    observed.forget_repository(session, repo)
                session.commit()

    def _publish(self, session: Session, event: Event, run_id: int,
                 registry: Registry, repository: str, tag: str, digest: str) -> None:
        key = f"{run_id}\0{registry.service}\0{repository}\0{tag}\0{digest}\0{event.TYPE}"
        env = Envelope.wrap(event, producer="syncer", actor=Actor.system(),
                            event_id=uuid.uuid5(NAMESPACE, key).hex,
                            correlation_id=f"sync-run-{run_id}")
        self.outbox.add_envelope(session, env)

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
