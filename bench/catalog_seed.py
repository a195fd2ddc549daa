"""Grows the catalog's tables straight through its own models (bulk inserts).

Twenty public team namespaces hold the repositories round-robin, each with a
fixed number of tags and the rows of the name index search reads; ``grow``
adds repositories up to a new total, so one seeding serves several sizes in
turn.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import bindparam, create_engine, func, insert, select, update
from sqlalchemy.engine import Engine

NAMESPACES = 20
CHUNK = 5_000


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class CatalogSeeder:
    """Adds namespaces, repositories and tags to one catalog database."""

    def __init__(self, database_url: str, tags_per_repo: int = 10) -> None:
        self.engine: Engine = create_engine(database_url)
        self.tags_per_repo = tags_per_repo
        self.namespace_ids: list[int] = []
        self.count = 0

    def _namespaces(self) -> None:
        from berth.catalog.models import Namespace, Registry, Team

        with self.engine.begin() as conn:
            registry_id = conn.scalar(select(Registry.id).order_by(Registry.id).limit(1))
            if registry_id is None:
                raise RuntimeError("the catalog has no registry yet (push once first)")
            now = _now()
            for k in range(NAMESPACES):
                team_id = conn.execute(insert(Team.__table__).values(
                    name=f"benchteam{k:02d}", description="", hidden=False,
                    created_at=now, updated_at=now)).inserted_primary_key[0]
                ns_id = conn.execute(insert(Namespace.__table__).values(
                    registry_id=registry_id, name=f"benchns{k:02d}", team_id=team_id,
                    visibility="public", description="bench", is_global=False,
                    personal=False, created_at=now, updated_at=now)
                ).inserted_primary_key[0]
                self.namespace_ids.append(int(ns_id))

    def grow(self, total: int) -> None:
        """Add repositories (and their tags) until there are ``total``."""
        from berth.catalog.models import (
            Namespace,
            Repository,
            RepositoryNameSuffix,
            Tag,
        )
        from berth.catalog.services import name_index

        if not self.namespace_ids:
            self._namespaces()
        while self.count < total:
            upto = min(total, self.count + CHUNK)
            now = _now()
            repos = [{"namespace_id": self.namespace_ids[i % NAMESPACES],
                      "name": f"app{i:07d}", "description": "", "created_at": now,
                      "updated_at": now} for i in range(self.count, upto)]
            with self.engine.begin() as conn:
                conn.execute(insert(Repository.__table__), repos)
                first = conn.scalar(select(func.max(Repository.id))) - len(repos) + 1
                tags = [{"repository_id": rid, "name": f"v{t}",
                         "digest": f"sha256:{rid:032x}{t:032x}",
                         "media_type": "application/vnd.oci.image.manifest.v1+json",
                         "size": 1000 + t, "author_name": "bench", "pushed_at": now,
                         "created_at": now, "updated_at": now}
                        for rid in range(first, first + len(repos))
                        for t in range(self.tags_per_repo)]
                for start in range(0, len(tags), CHUNK):
                    conn.execute(insert(Tag.__table__), tags[start:start + CHUNK])
                # What the catalog keeps beside each repository it creates.
                added = Counter(r["namespace_id"] for r in repos)
                conn.execute(update(Namespace.__table__)
                             .where(Namespace.id == bindparam("ns"))
                             .values(repositories_count=Namespace.repositories_count
                                     + bindparam("added")),
                             [{"ns": ns, "added": n} for ns, n in added.items()])
                suffixes = [row for i, r in enumerate(repos)
                            for row in name_index.rows(first + i, r["name"])]
                for start in range(0, len(suffixes), CHUNK):
                    conn.execute(insert(RepositoryNameSuffix.__table__),
                                 suffixes[start:start + CHUNK])
            self.count = upto

    def sample(self) -> tuple[int, int]:
        """A namespace id and a repository id from the seeded data."""
        from berth.catalog.models import Repository

        with self.engine.connect() as conn:
            repo_id = conn.scalar(select(Repository.id)
                                  .where(Repository.name == "app0000000"))
        return self.namespace_ids[0], int(repo_id or 0)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()
