"""List requests cost a constant number of SQL statements, not one per row."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

D1 = "sha256:" + "1" * 64
LISTS = ["/api/v1/repositories", "/api/v1/namespaces", "/api/v1/teams",
         "/api/v1/tags", "/api/v1/stars", "/api/v1/search?q=r",
         "/api/v1/repositories/{repo}/tags", "/api/v1/repositories/{repo}/tags/grouped",
         "/api/v1/teams/{team}/members", "/api/v1/teams/{team}/namespaces",
         "/api/v1/namespaces/{ns}/repositories",
         "/api/v1/repositories/{repo}/comments"]


@contextmanager
def counting(world: Any) -> Iterator[list[str]]:
    engine = world.app.extensions["berth.catalog"].runtime.engine
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def populate(world: Any, admin: Any, n: int) -> dict[str, int]:
    team = world.team(admin, "team")
    ns = world.namespace(admin, "rns", "team")
    for i in range(n):
        user = world.user(f"member{i}")
        admin.post(f"/api/v1/teams/{team}/members",
                   json={"user": user.username, "role": "viewer"})
        world.team(admin, f"team{i}")
        world.namespace(admin, f"rns{i}", f"team{i}")
        world.push(f"rns/r{i}", f"t{i}", D1, actor=admin.username)
        world.push(f"rns{i}/r", "latest", D1, actor=admin.username)
    repo = world.repo_id("rns/r0")
    for i in range(n):
        admin.post(f"/api/v1/repositories/{world.repo_id(f'rns{i}/r')}/stars")
        admin.post(f"/api/v1/repositories/{repo}/comments",
                   json={"comment": {"body": f"c{i}"}})
    return {"team": team, "ns": ns, "repo": repo}


def statements(make_world: Any, n: int, path: str) -> int:
    world = make_world(fresh=True)
    admin = world.user("root", admin=True)
    ids = populate(world, admin, n)
    url = path.format(**ids)
    admin.get(url)  # warm-up: the mirror row is already there
    with counting(world) as seen:
        resp = admin.get(url)
    assert resp.status_code == 200, resp.get_json()
    return len(seen)


@pytest.mark.parametrize("path", LISTS)
def test_list_queries_do_not_grow_with_rows(make_world: Any, path: str) -> None:
    few = statements(make_world, 1, path)
    many = statements(make_world, 4, path)
    assert few == many, f"{path}: {few} statements for 1 row, {many} for 4"
    assert many <= 16  # search: three lists of a few aggregate queries each
