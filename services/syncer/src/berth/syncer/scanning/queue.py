"""The scan queue: one row per digest, claimed by one scanner at a time."""

from __future__ import annotations

from datetime import datetime, timedelta

from berth.syncer.models import ImageScan, ObservedRepository, ObservedTag
from berth.syncer.services.observed import utcnow
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

NONE, WORKING, DONE, FAILED = "none", "working", "done", "failed"
STATUSES = (NONE, WORKING, DONE, FAILED)


def find(session: Session, digest: str) -> ImageScan | None:
    """The scan of ``digest``, if any."""
    return session.scalar(select(ImageScan).where(ImageScan.digest == digest))


def request(session: Session, registry: str, repository: str, digest: str, *,
            force: bool = False) -> ImageScan:
    """Queue ``digest`` unless it was already scanned (``force``: always).

    A digest done with another advisory database is not queued: the scanner
    matches its stored inventory again without downloading anything.
    """
    row = find(session, digest)
    now = utcnow()
    if row is None:
        row = ImageScan(digest=digest, service=registry, repository=repository,
                        status=NONE, requested_at=now, attempts=0)
        session.add(row)
        session.flush()
        return row
    # Read it from where it was seen last: an older repository may be gone.
    row.service, row.repository = registry, repository
    if (force or row.status == FAILED) and row.status != WORKING:
        row.status, row.requested_at, row.attempts, row.error = NONE, now, 0, None
    return row


def request_all(session: Session) -> int:
    """Queue every known digest again (and those only the reconcile saw)."""
    now = utcnow()
    queued = session.execute(
        update(ImageScan).where(ImageScan.status != WORKING)
        .values(status=NONE, requested_at=now, attempts=0, error=None)
    ).rowcount or 0  # type: ignore[attr-defined]
    known = set(session.scalars(select(ImageScan.digest)))
    rows = session.execute(
        select(ObservedRepository.service, ObservedRepository.name, ObservedTag.digest)
        .join(ObservedTag, ObservedTag.repository_id == ObservedRepository.id))
    for service, name, digest in rows:
        if digest not in known:
            known.add(digest)
            session.add(ImageScan(digest=digest, service=service, repository=name,
                                  status=NONE, requested_at=now, attempts=0))
            queued += 1
    return queued


def claim(sessions: sessionmaker[Session], owner: str,
          stale_after: float) -> int | None:
    """Take the oldest queued scan (one winner across replicas); its id."""
    now = utcnow()
    with sessions.begin() as session:
        # A scanner that died mid-scan leaves "working" behind; queue it again.
        session.execute(update(ImageScan).where(
            ImageScan.status == WORKING,
            ImageScan.started_at < now - timedelta(seconds=stale_after))
            .values(status=NONE))
        candidates = session.scalars(
            select(ImageScan.id).where(ImageScan.status == NONE,
                                       ImageScan.requested_at <= now)
            .order_by(ImageScan.requested_at, ImageScan.id).limit(5)).all()
        for scan_id in candidates:
            won = session.execute(
                update(ImageScan).where(ImageScan.id == scan_id,
                                        ImageScan.status == NONE)
                .values(status=WORKING, owner=owner, started_at=now,
                        attempts=ImageScan.attempts + 1)
            ).rowcount  # type: ignore[attr-defined]
            if won == 1:
                return int(scan_id)
    return None


def outdated(session: Session, version: str, limit: int) -> list[ImageScan]:
    """Done scans matched against another advisory database."""
    return list(session.scalars(
        select(ImageScan).where(ImageScan.status == DONE,
                                ImageScan.inventory.is_not(None),
                                (ImageScan.db_version != version)
                                | ImageScan.db_version.is_(None))
        .order_by(ImageScan.id).limit(limit)))


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 UTC, as the rest of the API."""
    return value.isoformat(timespec="seconds") + "Z" if value else None
