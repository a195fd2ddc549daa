"""Search only finds what the caller may see; LIKE wildcards are literal."""

from __future__ import annotations

from typing import Any

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
