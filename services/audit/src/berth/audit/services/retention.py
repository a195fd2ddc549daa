"""Pruning records past their maximum age without breaking verification.

The newest pruned record's id and hash are kept as an anchor, MAC'd with a
key only this service holds, in the same transaction as the delete: the
verifier then starts from the anchor instead of the genesis hash. Records are
pruned in id order (a prefix of the chain), so what remains is contiguous.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from berth.audit.chain import anchor_mac
from berth.audit.models import PROCESSED, AuditRecord, RetentionAnchor
from berth.audit.services.recorder import utcnow

log = structlog.get_logger(__name__)

# Records per transaction: short enough not to hold up the writers for long.
CHUNK = 5000


def prune(session: Session, *, days: int, anchor_key: bytes,
          now: datetime | None = None, limit: int = CHUNK) -> int:
    """Delete at most ``limit`` of the records older than ``days`` days
    (0 = never), oldest first; return how many. Call again until it returns 0:
    each call is one short transaction with its own anchor."""
    if days <= 0:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=days)
    last_id = session.scalar(select(func.max(AuditRecord.id))
                             .where(AuditRecord.recorded_at < cutoff))
    if last_id is None:
        return 0
    first_id = session.scalar(select(func.min(AuditRecord.id))) or last_id
    last_id = min(last_id, first_id + limit - 1)
    last = session.get(AuditRecord, last_id)
    if last is None:
        return 0
    count = session.scalar(select(func.count()).select_from(AuditRecord)
                           .where(AuditRecord.id <= last_id)) or 0
    session.add(RetentionAnchor(
        seq=last.id, hash=last.hash, pruned=count, created_at=utcnow(),
        mac=anchor_mac(anchor_key, last.id, last.hash, count)))
    session.execute(delete(AuditRecord).where(AuditRecord.id <= last_id))
    # The dedupe memory of the bus consumer ages out with the records.
    session.execute(delete(PROCESSED).where(PROCESSED.c.processed_at < cutoff))
    session.flush()
    log.info("audit_records_pruned", count=count, last_id=last_id)
    return count
