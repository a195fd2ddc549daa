"""``namespaces.repositories_count``: kept where repositories come and go.

A list's total is the sum of its namespaces' counts, so it no longer reads
every repository. The count changes in the same transaction as the
repository row, and before it: the namespace row is locked first, so two
transactions adding or removing repositories of one namespace queue on it
instead of deadlocking (each inserting a repository takes a shared lock on
its namespace for the foreign key, and two shared locks cannot both become
exclusive).
"""

from __future__ import annotations

from berth.catalog.models import Namespace
from sqlalchemy import update
from sqlalchemy.orm import Session


def add(session: Session, namespace_id: int, delta: int) -> None:
    """Change the count of ``namespace_id`` by ``delta`` (locks its row)."""
    session.execute(update(Namespace).where(Namespace.id == namespace_id)
                    .values(repositories_count=Namespace.repositories_count + delta))
