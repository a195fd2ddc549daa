"""The suffix index of repository names that search reads.

Search matches names by substring. ``LIKE '%q%'`` reads every name; a
substring of a name is a prefix of one of its suffixes, and a prefix is an
index range, so search reads only the suffixes that start with the query.
A name of n characters costs n rows, each cut to ``SUFFIX_LENGTH`` characters;
a longer query finds its candidates by its first ``SUFFIX_LENGTH`` characters
and the exact test on the name keeps only true matches.
"""

from __future__ import annotations

from collections.abc import Iterable

from berth.catalog.models import SUFFIX_LENGTH, RepositoryNameSuffix
from berth.common.web import escape_like
from sqlalchemy import Select, insert, select
from sqlalchemy.orm import Session


def suffixes(name: str) -> list[str]:
    """The distinct suffixes of ``name`` (lower case), cut to SUFFIX_LENGTH."""
    lowered = name.lower()
    return sorted({lowered[i:i + SUFFIX_LENGTH] for i in range(len(lowered))})


def rows(repository_id: int, name: str) -> list[dict[str, object]]:
    """The index rows of one repository (for bulk inserts)."""
    return [{"repository_id": repository_id, "suffix": s} for s in suffixes(name)]


def index_names(session: Session, repositories: Iterable[tuple[int, str]]) -> None:
    """Add the index rows of new repositories, given as (id, name)."""
    values = [r for rid, name in repositories for r in rows(rid, name)]
    if values:
        session.execute(insert(RepositoryNameSuffix), values)


def candidates(q: str) -> Select[tuple[int]]:
    """Ids of repositories whose name may contain ``q`` (a superset: longer
    queries are cut to SUFFIX_LENGTH characters); ``q`` is lower case."""
    prefix = escape_like(q[:SUFFIX_LENGTH]) + "%"
    return (select(RepositoryNameSuffix.repository_id)
            .where(RepositoryNameSuffix.suffix.like(prefix, escape="\\")))
