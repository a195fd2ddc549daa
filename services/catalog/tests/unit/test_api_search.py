"""Search only finds what the caller may see; LIKE wildcards are literal."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

D1 = "sha256:" + "1" * 64


def names(body: dict[str, Any], kind: str) -> list[str]:
    key = "full_name" if kind == "repositories" else "name"
    return [item[key] for item in body[kind]]


def test_search_respects_visibility(world: Any) -> None:
    alice, bob = world.user("alice"), world.user("bob")
    world.team(alice, "webteam")
    world.namespace(alice, "web", "webteam")
    world.namespace(alice, "webpub", "webteam", visibility="public")
    world.push("web/site", "v1", D1)
    world.push("webpub/site", "v1", D1)
    mine = alice.get("/api/v1/search?q=web").get_json()
    assert names(mine, "repositories") == ["web/site", "webpub/site"]
    assert names(mine, "namespaces") == ["web", "webpub"]
    assert names(mine, "teams") == ["webteam"]
    theirs = bob.get("/api/v1/search?q=WEB").get_json()
    assert names(theirs, "repositories") == ["webpub/site"]
    assert names(theirs, "teams") == []
    anon = world.client.get("/api/v1/search?q=site").get_json()
    assert names(anon, "repositories") == ["webpub/site"]


def test_like_wildcards_are_escaped(world: Any) -> None:
    admin = world.user("root", admin=True)
    world.push("busybox", "v1", D1)
    assert admin.get("/api/v1/search?q=%25").get_json()["repositories"] == []
    assert admin.get("/api/v1/search?q=_").get_json()["repositories"] == []
    assert names(admin.get("/api/v1/search?q=sybo").get_json(),
                 "repositories") == ["busybox"]


def test_search_validation_and_auth(make_world: Any) -> None:
    w = make_world(anonymous_browsing=False)
    assert w.client.get("/api/v1/search?q=x").status_code == 401
    user = w.user("u")
    assert user.get("/api/v1/search").status_code == 422
    assert user.get("/api/v1/search?q=" + "x" * 101).status_code == 422
    assert user.get("/api/v1/search?q=x&per_page=abc").status_code == 422
    assert user.get("/api/v1/search?q=x").status_code == 200


def test_control_characters_are_refused(world: Any) -> None:
    admin = world.user("root", admin=True)
    world.push("busybox", "v1", D1)
    for q in ("%00", "a%00", "%00b", "%01", "x%1Fy", "%7F", "b%C2%85c"):
        resp = admin.get(f"/api/v1/search?q={q}")
        assert resp.status_code == 422, q
        assert resp.get_json()["errors"][0]["detail"] == {"field": "q"}


REPOSITORIES = ["web/site", "web/site-admin", "webpub/site", "webpub/tools/cli",
                "appstore/web", "busybox", "web/" + "a" * 70 + "b"]
QUERIES = ["site", "SITE", "web", "web/", "eb/si", "b/site-", "/site", "/", "pub/to",
           "tools/c", "ls/cl", "store/w", "e/w", "busy", "~", "s", "-", "x",
           "a" * 66 + "b", "a" * 70 + "c", "b/" + "a" * 63, "b/" + "a" * 70 + "b"]


def _scan(world: Any, q: str) -> list[str]:
    """What the old full scan found: q in name or in namespace/name."""
    from berth.catalog.models import Repository

    with world.session() as s:
        repos = list(s.scalars(select(Repository)))
        q = q.lower()
        return sorted(r.full_name for r in repos
                      if q in r.name.lower()
                      or q in f"{r.namespace.name}/{r.name}".lower())


def _search_world(world: Any) -> Any:
    admin = world.user("root", admin=True)
    world.team(admin, "webteam")
    for ns in ("web", "webpub", "appstore"):
        world.namespace(admin, ns, "webteam")
    for name in REPOSITORIES:
        world.push(name, "v1", D1)
    return admin


def _found(admin: Any, q: str) -> tuple[list[str], int]:
    resp = admin.get("/api/v1/search", query_string={"q": q, "per_page": 100})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    return sorted(names(body, "repositories")), body["totals"]["repositories"]


def test_search_finds_what_a_scan_finds(world: Any) -> None:
    admin = _search_world(world)
    for q in QUERIES:
        expected = _scan(world, q)
        assert _found(admin, q) == (expected, len(expected)), q
    # the cases the suffix index and the namespace side must cover, non-empty
    assert _found(admin, "eb/si")[0] == ["web/site", "web/site-admin"]
    assert _found(admin, "pub/to")[0] == ["webpub/tools/cli"]
    assert _found(admin, "a" * 66 + "b")[0] == ["web/" + "a" * 70 + "b"]
    assert _found(admin, "a" * 70 + "c")[0] == []


def test_search_without_the_index_finds_the_same(world: Any,
                                                 monkeypatch: Any) -> None:
    from berth.catalog.services import search

    admin = _search_world(world)
    with_index = {q: _found(admin, q) for q in QUERIES}
    monkeypatch.setattr(search, "MAX_CANDIDATES", 1)  # every query scans
    assert {q: _found(admin, q) for q in QUERIES} == with_index


def test_deleted_repositories_leave_the_index(world: Any) -> None:
    from berth.catalog.models import RepositoryNameSuffix

    admin = world.user("root", admin=True)
    world.push("busybox", "v1", D1)
    repo_id = world.repo_id("busybox")
    with world.session() as s:
        assert s.scalar(select(func.count()).select_from(RepositoryNameSuffix).where(
            RepositoryNameSuffix.repository_id == repo_id)) == len("busybox")
    assert admin.delete(f"/api/v1/repositories/{repo_id}").status_code == 204
    with world.session() as s:
        assert s.scalar(select(func.count()).select_from(RepositoryNameSuffix)) == 0
    assert _found(admin, "busy") == ([], 0)
