"""Reads and writes of the observed state (what the syncer last saw)."""

from __future__ import annotations

from datetime import UTC, datetime

from berth.syncer.models import ObservedRepository, ObservedTag
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session


def utcnow() -> datetime:
    """Naive UTC now, as every DateTime column stores it."""
    return datetime.now(UTC).replace(tzinfo=None)


def repository(session: Session, registry: str, name: str,
               create: bool = True) -> ObservedRepository | None:
    """The observed repository ``name`` of ``registry`` (created if asked)."""
    found = session.scalar(select(ObservedRepository).where(
        ObservedRepository.service == registry, ObservedRepository.name == name))
    if found is not None or not create:
        return found
    repo = ObservedRepository(service=registry, name=name, updated_at=utcnow())
    try:
        with session.begin_nested():
            session.add(repo)
    except IntegrityError:
        # A concurrent writer created it first; use theirs.
        return session.scalar(select(ObservedRepository).where(
            ObservedRepository.service == registry, ObservedRepository.name == name))
    return repo


def tags_of(session: Session, repo: ObservedRepository) -> dict[str, ObservedTag]:
    """The observed tags of ``repo`` by name."""
    rows = session.scalars(select(ObservedTag).where(
        ObservedTag.repository_id == repo.id))
    return {row.tag: row for row in rows}


def set_tag(session: Session, repo: ObservedRepository, tag: str, digest: str,
            media_type: str | None, size: int | None) -> str:
    """Record ``tag`` -> ``digest``; return "added", "changed" or "same"."""
    now = utcnow()
    row = session.scalar(select(ObservedTag).where(
        ObservedTag.repository_id == repo.id, ObservedTag.tag == tag))
    repo.updated_at = now
    if row is None:
        session.add(ObservedTag(repository_id=repo.id, tag=tag, digest=digest,
                                media_type=media_type, size=size, updated_at=now))
        session.flush()
        return "added"
    outcome = "same" if row.digest == digest else "changed"
    row.digest = digest
    row.media_type = media_type or row.media_type
    row.size = size if size is not None else row.size
    row.updated_at = now
    return outcome


def drop_digest(session: Session, repo: ObservedRepository, digest: str) -> list[str]:
    """Forget every tag of ``repo`` pointing at ``digest``; return their names."""
    rows = list(session.scalars(select(ObservedTag).where(
        ObservedTag.repository_id == repo.id, ObservedTag.digest == digest)))
    for row in rows:
        session.delete(row)
    repo.updated_at = utcnow()
    return [row.tag for row in rows]


def is_empty(session: Session) -> bool:
    """True when nothing was ever observed (Portus' ``initial`` strategy)."""
    return session.scalar(select(ObservedRepository.id).limit(1)) is None


def forget_repository(session: Session, repo: ObservedRepository) -> None:
    """Drop ``repo`` and its tags."""
    session.execute(delete(ObservedTag).where(ObservedTag.repository_id == repo.id))
    session.delete(repo)
