"""List requests cost a constant number of SQL statements, not one per row."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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


def populate(world: Any, admin: Any, start: int, stop: int) -> None:
    """Rows ``start``..``stop``-1 of every kind the lists show."""
    for i in range(start, stop):
        user = world.user(f"member{i}")
        admin.post(f"/api/v1/teams/{world.ids_of['team']}/members",
                   json={"user": user.username, "role": "viewer"})
        world.team(admin, f"team{i}")
        world.namespace(admin, f"rns{i}", f"team{i}")
        world.push(f"rns/r{i}", f"t{i}", D1, actor=admin.username)
        world.push(f"rns{i}/r", "latest", D1, actor=admin.username)
        admin.post(f"/api/v1/repositories/{world.repo_id(f'rns{i}/r')}/stars")
        admin.post(f"/api/v1/repositories/{world.repo_id('rns/r0')}/comments",
                   json={"comment": {"body": f"c{i}"}})


def measure(world: Any, admin: Any) -> dict[str, int]:
    out = {}
    for path in LISTS:
        url = path.format(**world.ids_of)
        with counting(world) as seen:
            resp = admin.get(url)
        assert resp.status_code == 200, (url, resp.get_json())
        assert resp.get_json(), f"{url} listed nothing: the test would prove nothing"
        out[path] = len(seen)
    return out


def test_list_queries_do_not_grow_with_rows(world: Any) -> None:
    admin = world.user("root", admin=True)
    team = world.team(admin, "team")
    ns = world.namespace(admin, "rns", "team")
    world.ids_of = {"team": team, "ns": ns}
    populate(world, admin, 0, 1)
    world.ids_of["repo"] = world.repo_id("rns/r0")
    admin.get("/api/v1/teams")  # the caller's mirror row exists from here on
    few = measure(world, admin)
    populate(world, admin, 1, 5)
    many = measure(world, admin)
    assert few == many, {p: (few[p], many[p]) for p in LISTS if few[p] != many[p]}
    # search: three lists of a few aggregate queries each
    assert max(many.values()) <= 16, many
