"""Runs queued scans: claim a digest, read the image, store what was found."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from datetime import timedelta

import structlog
from berth.syncer.models import ImageScan
from berth.syncer.registries import RegistryDirectory
from berth.syncer.registry_client import (
    RegistryClient,
    RegistryError,
    RegistryUnavailable,
)
from berth.syncer.scanning import queue
from berth.syncer.scanning.image import RegistryImage
from berth.syncer.scanning.metrics import SCAN_DURATION, SCANS
from berth.syncer.scanning.scanner import Scanner, ScanResult, UnsupportedImage
from berth.syncer.services.observed import utcnow
from sqlalchemy.orm import Session, sessionmaker

log = structlog.get_logger(__name__)
# A registry that is down is retried on later polls, then given up on.
MAX_ATTEMPTS = 5
RETRY_PAUSE = 30.0


class ScanRunner:
    """One scanner process's loop body."""

    def __init__(self, *, sessions: sessionmaker[Session], directory: RegistryDirectory,
                 client_for: object, scanner: Scanner, stale_after: float = 1800.0) -> None:
        self.sessions = sessions
        self.directory = directory
        self.client_for = client_for
        self.scanner = scanner
        self.stale_after = stale_after
        self.owner = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"

    def run_pending(self, stop: threading.Event | None = None) -> int:
        """Scan what is queued and re-match what is outdated; how many were handled."""
        handled = self.rematch_outdated()
        while stop is None or not stop.is_set():
            scan_id = queue.claim(self.sessions, self.owner, self.stale_after)
            if scan_id is None:
                break
            self.scan(scan_id)
            handled += 1
        return handled

    def rematch_outdated(self, batch: int = 50) -> int:
        """Match stored inventories against a newer advisory database."""
        version = self.scanner.database_version()
        done = 0
        while True:
            with self.sessions.begin() as session:
                rows = queue.outdated(session, version, batch)
                for row in rows:
                    result = self.scanner.rematch(row.inventory or {})
                    if result is None:
                        row.status = queue.NONE  # this backend must scan again
                    else:
                        self._store(row, result, version)
                done += len(rows)
            if len(rows) < batch:
                return done

    def scan(self, scan_id: int) -> str:
        """Scan one claimed digest; return its final status."""
        with self.sessions() as session:
            row = session.get(ImageScan, scan_id)
            if row is None:
                return queue.NONE
            registry, repository, digest = row.service, row.repository, row.digest
            attempts = row.attempts
        started = time.monotonic()
        version = self.scanner.database_version()
        try:
            result = self.scanner.scan(self._image(registry, repository, digest))
        except RegistryUnavailable as exc:
            retry = attempts < MAX_ATTEMPTS
            return self._fail(scan_id, str(exc), retry=retry)
        except (RegistryError, UnsupportedImage) as exc:
            return self._fail(scan_id, str(exc), retry=False)
        except Exception as exc:
            log.exception("scan_crashed", digest=digest)
            return self._fail(scan_id, f"internal error: {type(exc).__name__}", retry=False)
        with self.sessions.begin() as session:
            row = session.get(ImageScan, scan_id)
            if row is None:
                return queue.NONE
            self._store(row, result, version)
        SCANS.labels(status=queue.DONE).inc()
        SCAN_DURATION.observe(time.monotonic() - started)
        log.info("scan_done", digest=digest, packages=len(result.inventory["packages"]),
                 vulnerabilities=len(result.findings))
        return queue.DONE

    def _image(self, registry: str, repository: str, digest: str) -> RegistryImage:
        reg = self.directory.get(registry) or self.directory.default
        if reg is None or not reg.url:
            raise RegistryError(f"unknown registry {registry}")
        client: RegistryClient = self.client_for(reg)  # type: ignore[operator]
        return RegistryImage(client, repository, digest)

    def _store(self, row: ImageScan, result: ScanResult, version: str) -> None:
        row.status, row.error = queue.DONE, None
        row.scanner, row.db_version = self.scanner.name, version
        row.inventory, row.findings = result.inventory, result.findings
        row.summary, row.os = result.summary, (result.os or None) and result.os[:255]
        row.finished_at, row.owner = utcnow(), None

    def _fail(self, scan_id: int, error: str, *, retry: bool) -> str:
        status = queue.NONE if retry else queue.FAILED
        with self.sessions.begin() as session:
            row = session.get(ImageScan, scan_id)
            if row is not None:
                row.status, row.error, row.owner = status, error[:500], None
                row.finished_at = utcnow()
                if retry:  # not before a pause that grows with each attempt
                    row.requested_at = utcnow() + timedelta(seconds=RETRY_PAUSE * row.attempts)
        SCANS.labels(status=status if status == queue.FAILED else "retry").inc()
        log.warning("scan_failed", scan_id=scan_id, error=error[:200], retry=retry)
        return status
