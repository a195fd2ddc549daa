"""Namespaces: 401, 403, 404, 422 and success for every endpoint."""

from __future__ import annotations

from typing import Any

import pytest

D1 = "sha256:" + "1" * 64


@pytest.fixture
def cast(world: Any) -> dict[str, Any]:
    owner, dev, viewer, stranger = (world.user(n) for n in
                                    ("owner", "dev", "viewer", "stranger"))
    world.team(owner, "devs", dev="contributor", viewer="viewer")
    ns = world.namespace(owner, "devs", "devs")
    return {"owner": owner, "dev": dev, "viewer": viewer, "stranger": stranger,
            "admin": world.user("root", admin=True), "ns": ns}


def rule(resp: Any) -> str:
    return str(resp.get_json()["errors"][0]["detail"].get("rule"))


@pytest.mark.parametrize(("method", "path"), [
    ("post", "/api/v1/namespaces"), ("get", "/api/v1/namespaces/validate?name=x"),
    ("put", "/api/v1/namespaces/{n}"), ("delete", "/api/v1/namespaces/{n}")])
def test_writes_need_login(world: Any, cast: dict[str, Any], method: str,
                           path: str) -> None:
    resp = getattr(world.client, method)(path.format(n=cast["ns"]), json={})
    assert resp.status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/namespaces", "/api/v1/namespaces/{n}",
                                  "/api/v1/namespaces/{n}/repositories"])
def test_reads_need_login_without_anonymous_browsing(make_world: Any,
                                                     path: str) -> None:
    w = make_world(anonymous_browsing=False)
    resp = w.client.get(path.format(n=1))
    assert resp.status_code == 401


def test_list_agrees_with_show(world: Any, cast: dict[str, Any]) -> None:
    owner = cast["owner"]
    world.namespace(owner, "shared", "devs", visibility="protected")
    world.namespace(owner, "open", "devs", visibility="public")
    stranger = cast["stranger"]
    listed = {n["name"]: n for n in stranger.get("/api/v1/namespaces").get_json()}
    assert set(listed) == {"", "shared", "open", "stranger"}
    for ns in listed.values():
        assert stranger.get(f"/api/v1/namespaces/{ns['id']}").status_code == 200
    assert stranger.get(f"/api/v1/namespaces/{cast['ns']}").status_code == 404
    anon = {n["name"] for n in world.client.get("/api/v1/namespaces").get_json()}
    assert anon == {"", "open"}
    assert world.client.get(f"/api/v1/namespaces/{cast['ns']}").status_code == 404


def test_show_namespace_permissions(cast: dict[str, Any]) -> None:
    body = cast["dev"].get(f"/api/v1/namespaces/{cast['ns']}").get_json()
    assert body["team"]["name"] == "devs" and body["visibility"] == "private"
    assert body["permissions"] == {"role": "contributor", "pull": True, "push": True,
                                   "delete": False, "webhooks": False,
                                   "visibility": False}
    assert body["updatable"] is False
    assert cast["owner"].get("/api/v1/namespaces/99999").status_code == 404


def test_personal_namespace_is_mine(cast: dict[str, Any]) -> None:
    mine = [n for n in cast["dev"].get("/api/v1/namespaces").get_json()
            if n["personal"]]
    assert [(n["name"], n["permissions"]["push"]) for n in mine] == [("dev", True)]


def test_validate(cast: dict[str, Any]) -> None:
    ok = cast["dev"].get("/api/v1/namespaces/validate?name=fresh").get_json()
    assert ok == {"messages": {}, "valid": True}
    taken = cast["dev"].get("/api/v1/namespaces/validate?name=devs").get_json()
    assert taken["valid"] is False and "name" in taken["messages"]
    bad = cast["dev"].get("/api/v1/namespaces/validate?name=Bad!").get_json()
    assert bad["valid"] is False
    assert cast["dev"].get("/api/v1/namespaces/validate").status_code == 422


def test_create(world: Any, cast: dict[str, Any]) -> None:
    resp = cast["dev"].post("/api/v1/namespaces", json={
        "name": "tools", "team": "devs", "description": "build tools"})
    assert resp.status_code == 201
    assert resp.get_json()["visibility"] == "private"
    assert "catalog.namespace.created" in world.bus.types()
    denied = cast["viewer"].post("/api/v1/namespaces", json={"name": "v",
                                                             "team": "devs"})
    assert denied.status_code == 403 and rule(denied) == "team_contributors_only"
    # A team the caller is not in looks like an unknown team.
    assert cast["stranger"].post("/api/v1/namespaces", json={
        "name": "s", "team": "devs"}).status_code == 422
    assert cast["dev"].post("/api/v1/namespaces", json={
        "name": "Bad Name", "team": "devs"}).status_code == 422
    assert cast["dev"].post("/api/v1/namespaces", json={"team": "devs"}
                            ).status_code == 422
    assert cast["dev"].post("/api/v1/namespaces", json={
        "name": "devs", "team": "devs"}).status_code == 409
    assert cast["dev"].post("/api/v1/namespaces", json={
        "name": "x", "team": "devs", "visibility": "secret"}).status_code == 422


def test_update_visibility(world: Any, cast: dict[str, Any]) -> None:
    path = f"/api/v1/namespaces/{cast['ns']}"
    resp = cast["owner"].put(path, json={"namespace": {"visibility": "public"}})
    assert resp.status_code == 200 and resp.get_json()["visibility"] == "public"
    assert "catalog.namespace.visibility_changed" in world.bus.types()
    denied = cast["dev"].put(path, json={"namespace": {"visibility": "private"}})
    assert denied.status_code == 403 and rule(denied) == "namespace_owners_only"
    assert cast["owner"].put(path, json={"namespace": {"visibility": "open"}}
                             ).status_code == 422
    assert cast["owner"].put("/api/v1/namespaces/99999", json={
        "namespace": {"visibility": "public"}}).status_code == 404
    assert cast["stranger"].put(f"/api/v1/namespaces/{cast['ns']}", json={
        "namespace": {"visibility": "private"}}).status_code == 403  # public now


def test_global_namespace_is_never_private(cast: dict[str, Any]) -> None:
    admin = cast["admin"]
    glob = next(n for n in admin.get("/api/v1/namespaces").get_json() if n["global"])
    resp = admin.put(f"/api/v1/namespaces/{glob['id']}",
                     json={"namespace": {"visibility": "private"}})
    assert resp.status_code == 403 and rule(resp) == "global_namespace_never_private"
    assert admin.delete(f"/api/v1/namespaces/{glob['id']}").status_code == 403


def test_update_description_and_team(world: Any, cast: dict[str, Any]) -> None:
    world.team(cast["owner"], "others")
    path = f"/api/v1/namespaces/{cast['ns']}"
    resp = cast["owner"].put(path, json={"namespace": {"description": "hi",
                                                       "team": "others"}})
    assert resp.status_code == 200
    assert resp.get_json()["team"]["name"] == "others"
    assert resp.get_json()["description"] == "hi"
    assert cast["owner"].put(path, json={"namespace": {"team": "nope"}}
                             ).status_code == 422
    assert "catalog.namespace.team_changed" in world.bus.types()


def test_personal_namespace_cannot_be_deleted(cast: dict[str, Any]) -> None:
    mine = next(n for n in cast["dev"].get("/api/v1/namespaces").get_json()
                if n["personal"])
    resp = cast["dev"].delete(f"/api/v1/namespaces/{mine['id']}")
    assert resp.status_code == 403
    assert rule(resp) == "personal_namespace_cannot_be_deleted"


def test_delete(world: Any, cast: dict[str, Any]) -> None:
    path = f"/api/v1/namespaces/{cast['ns']}"
    world.push("devs/app", "v1", D1)
    assert cast["dev"].delete(path).status_code == 403
    assert cast["stranger"].delete(path).status_code == 404
    world.registry.down = True
    assert cast["owner"].delete(path).status_code == 503  # nothing deleted
    assert cast["owner"].get(path).status_code == 200
    world.registry.down = False
    assert cast["owner"].delete(path).status_code == 204
    assert world.registry.deleted == [("registry.test:5000", "devs/app", D1)]
    assert cast["owner"].delete(path).status_code == 404
    assert "catalog.namespace.deleted" in world.bus.types()


def test_namespace_repositories(world: Any, cast: dict[str, Any]) -> None:
    world.push("devs/app", "v1", D1)
    path = f"/api/v1/namespaces/{cast['ns']}/repositories"
    repos = cast["viewer"].get(path).get_json()
    assert [r["full_name"] for r in repos] == ["devs/app"]
    assert cast["stranger"].get(path).status_code == 404
    assert cast["owner"].get("/api/v1/namespaces/99999/repositories"
                             ).status_code == 404
    assert cast["owner"].get(path + "?sort_attr=nope").status_code == 422
