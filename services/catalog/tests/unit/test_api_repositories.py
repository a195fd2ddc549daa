"""Repositories and tags: 401, 403, 404, 422 and success; deletes go through the
registry (in-test RegistryOperations) and say which tags share the digest."""

from __future__ import annotations

from typing import Any

import pytest

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
SERVICE = "registry.test:5000"


@pytest.fixture
def cast(world: Any) -> dict[str, Any]:
    owner, dev, viewer, stranger = (world.user(n) for n in
                                    ("owner", "dev", "viewer", "stranger"))
    world.team(owner, "devs", dev="contributor", viewer="viewer")
    world.namespace(owner, "devs", "devs")
    world.push("devs/app", "v1", D1, actor="dev")
    world.push("devs/app", "latest", D1, actor="dev")
    world.push("devs/app", "v2", D2, actor="owner")
    repo = world.repo_id("devs/app")
    return {"owner": owner, "dev": dev, "viewer": viewer, "stranger": stranger,
            "admin": world.user("root", admin=True), "repo": repo}


def tag_id(cast: dict[str, Any], name: str) -> int:
    tags = cast["owner"].get(f"/api/v1/repositories/{cast['repo']}/tags").get_json()
    return int(next(t["id"] for t in tags if t["name"] == name))


@pytest.mark.parametrize(("method", "path"), [
    ("put", "/api/v1/repositories/{r}"), ("delete", "/api/v1/repositories/{r}"),
    ("delete", "/api/v1/tags/1"), ("get", "/api/v1/tags")])
def test_writes_need_login(world: Any, cast: dict[str, Any], method: str,
                           path: str) -> None:
    resp = getattr(world.client, method)(path.format(r=cast["repo"]), json={})
    assert resp.status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/repositories", "/api/v1/repositories/1",
                                  "/api/v1/repositories/1/tags",
                                  "/api/v1/repositories/1/tags/grouped",
                                  "/api/v1/tags/1"])
def test_reads_need_login_without_anonymous_browsing(make_world: Any,
                                                     path: str) -> None:
    assert make_world(anonymous_browsing=False).client.get(path).status_code == 401


def test_list_and_show_agree(world: Any, cast: dict[str, Any]) -> None:
    world.push("stranger/own", "v1", D1)
    listed = cast["stranger"].get("/api/v1/repositories").get_json()
    assert [r["full_name"] for r in listed] == ["stranger/own"]
    assert cast["stranger"].get(f"/api/v1/repositories/{cast['repo']}"
                                ).status_code == 404
    body = cast["viewer"].get(f"/api/v1/repositories/{cast['repo']}").get_json()
    assert body["full_name"] == "devs/app" and body["tags_count"] == 3
    assert body["registry_hostname"] == SERVICE and body["destroyable"] is False
    assert body["registry_service"] == SERVICE
    assert cast["owner"].get(f"/api/v1/repositories/{cast['repo']}"
                             ).get_json()["destroyable"] is True
    assert cast["owner"].get("/api/v1/repositories/99999").status_code == 404
    assert cast["owner"].get("/api/v1/repositories?per_page=0").status_code == 422


def test_protected_namespace_is_listed_to_every_user(world: Any,
                                                     cast: dict[str, Any]) -> None:
    # Portus' list hid protected repositories that its detail page showed.
    ns = next(n for n in cast["owner"].get("/api/v1/namespaces").get_json()
              if n["name"] == "devs")
    cast["owner"].put(f"/api/v1/namespaces/{ns['id']}",
                      json={"namespace": {"visibility": "protected"}})
    listed = [r["id"] for r in cast["stranger"].get("/api/v1/repositories").get_json()]
    assert cast["repo"] in listed
    assert cast["stranger"].get(f"/api/v1/repositories/{cast['repo']}"
                                ).status_code == 200
    assert world.client.get(f"/api/v1/repositories/{cast['repo']}").status_code == 404


def test_pagination_headers(cast: dict[str, Any]) -> None:
    resp = cast["admin"].get("/api/v1/repositories?per_page=1&page=1")
    assert resp.headers["X-Total"] == "1" and resp.headers["X-Per-Page"] == "1"


def test_update_description(world: Any, cast: dict[str, Any]) -> None:
    path = f"/api/v1/repositories/{cast['repo']}"
    resp = cast["dev"].put(path, json={"repository": {"description": "# App"}})
    assert resp.status_code == 200 and resp.get_json()["description"] == "# App"
    assert resp.get_json()["description_md"] == "<h1>App</h1>"
    assert cast["viewer"].put(path, json={"repository": {"description": "x"}}
                              ).status_code == 403
    assert cast["stranger"].put(path, json={"repository": {"description": "x"}}
                                ).status_code == 404
    assert cast["dev"].put(path, json={"repository": {"description": 5}}
                           ).status_code == 422
    assert "catalog.repository.updated" in world.bus.types()


def test_tags_list_shows_digest_author_and_siblings(cast: dict[str, Any]) -> None:
    resp = cast["viewer"].get(f"/api/v1/repositories/{cast['repo']}/tags")
    assert resp.status_code == 200 and resp.headers["X-Total"] == "3"
    tags = {t["name"]: t for t in resp.get_json()}
    assert tags["v1"]["digest"] == D1 and tags["v1"]["author"]["name"] == "dev"
    assert tags["v1"]["digest_shared_with"] == ["latest"]
    assert tags["v2"]["digest_shared_with"] == []
    assert cast["stranger"].get(f"/api/v1/repositories/{cast['repo']}/tags"
                                ).status_code == 404
    assert cast["owner"].get("/api/v1/repositories/99999/tags").status_code == 404
    assert cast["owner"].get(f"/api/v1/repositories/{cast['repo']}/tags"
                             "?sort_attr=digest").status_code == 422


def test_grouped_tags(cast: dict[str, Any]) -> None:
    resp = cast["viewer"].get(f"/api/v1/repositories/{cast['repo']}/tags/grouped")
    groups = sorted(sorted(t["name"] for t in g) for g in resp.get_json())
    assert groups == [["latest", "v1"], ["v2"]]
    assert cast["stranger"].get(f"/api/v1/repositories/{cast['repo']}/tags/grouped"
                                ).status_code == 404
    assert cast["owner"].get("/api/v1/repositories/99999/tags/grouped"
                             ).status_code == 404


def test_show_tag(cast: dict[str, Any]) -> None:
    tid = tag_id(cast, "v1")
    body = cast["viewer"].get(f"/api/v1/tags/{tid}").get_json()
    assert body["name"] == "v1" and body["digest_shared_with"] == ["latest"]
    assert cast["stranger"].get(f"/api/v1/tags/{tid}").status_code == 404
    assert cast["owner"].get("/api/v1/tags/99999").status_code == 404


def test_all_tags_is_for_admins(cast: dict[str, Any]) -> None:
    assert cast["owner"].get("/api/v1/tags").status_code == 403
    resp = cast["admin"].get("/api/v1/tags")
    assert resp.status_code == 200 and len(resp.get_json()) == 3
    assert cast["admin"].get("/api/v1/tags?sort_order=sideways").status_code == 422


def test_delete_tag_previews_then_deletes_every_tag_of_the_digest(
        world: Any, cast: dict[str, Any]) -> None:
    tid = tag_id(cast, "v1")
    preview = cast["owner"].delete(f"/api/v1/tags/{tid}?dry_run=true")
    assert preview.status_code == 200
    assert preview.get_json() == {"dry_run": True, "digest": D1,
                                  "tags": ["latest", "v1"]}
    assert world.registry.deleted == []
    assert cast["dev"].delete(f"/api/v1/tags/{tid}").status_code == 403
    assert cast["stranger"].delete(f"/api/v1/tags/{tid}").status_code == 404
    assert cast["owner"].delete(f"/api/v1/tags/{tid}").status_code == 204
    assert world.registry.deleted == [(SERVICE, "devs/app", D1)]
    left = cast["owner"].get(f"/api/v1/repositories/{cast['repo']}/tags").get_json()
    assert [t["name"] for t in left] == ["v2"]
    assert world.bus.types().count("catalog.tag.deleted") == 2
    assert cast["owner"].delete(f"/api/v1/tags/{tid}").status_code == 404


def test_delete_tag_when_registry_down_keeps_everything(world: Any,
                                                        cast: dict[str, Any]) -> None:
    world.registry.down = True
    tid = tag_id(cast, "v2")
    resp = cast["owner"].delete(f"/api/v1/tags/{tid}")
    assert resp.status_code == 503
    assert resp.get_json()["errors"][0]["code"] == "REGISTRY_UNAVAILABLE"
    assert cast["owner"].get(f"/api/v1/tags/{tid}").status_code == 200


def test_delete_tag_already_gone_in_registry_drops_the_rows(
        world: Any, cast: dict[str, Any]) -> None:
    world.registry.gone = True
    assert cast["owner"].delete(f"/api/v1/tags/{tag_id(cast, 'v2')}"
                                ).status_code == 204


def test_delete_disabled(make_world: Any) -> None:
    w = make_world(delete_enabled=False)
    admin = w.user("root", admin=True)
    w.push("root/app", "v1", D1)
    resp = admin.delete(f"/api/v1/repositories/{w.repo_id('root/app')}")
    assert resp.status_code == 403
    assert resp.get_json()["errors"][0]["detail"]["rule"] == "delete_disabled"


def test_contributor_deletes_when_configured(make_world: Any) -> None:
    w = make_world(delete_contributors=True)
    owner, dev = w.user("owner"), w.user("dev")
    w.team(owner, "devs", dev="contributor")
    w.namespace(owner, "devs", "devs")
    w.push("devs/app", "v1", D1)
    assert dev.delete(f"/api/v1/repositories/{w.repo_id('devs/app')}"
                      ).status_code == 204


def test_delete_repository(world: Any, cast: dict[str, Any]) -> None:
    path = f"/api/v1/repositories/{cast['repo']}"
    preview = cast["owner"].delete(path + "?dry_run=1").get_json()
    assert preview["digests"] == [D1, D2] and len(preview["tags"]) == 3
    assert cast["dev"].delete(path).status_code == 403
    assert cast["stranger"].delete(path).status_code == 404
    assert cast["owner"].delete(path).status_code == 204
    assert sorted(d for _, _, d in world.registry.deleted) == [D1, D2]
    assert cast["owner"].get(path).status_code == 404
    assert "catalog.repository.deleted" in world.bus.types()
    assert cast["owner"].delete("/api/v1/repositories/99999").status_code == 404


def test_tag_as_sub_resource(world: Any, cast: dict[str, Any]) -> None:
    tid, repo = tag_id(cast, "v2"), cast["repo"]
    body = cast["viewer"].get(f"/api/v1/repositories/{repo}/tags/{tid}").get_json()
    assert body["name"] == "v2" and body["digest"] == D2
    assert cast["stranger"].get(f"/api/v1/repositories/{repo}/tags/{tid}"
                                ).status_code == 404
    world.push("devs/other", "v1", D1)
    other = world.repo_id("devs/other")
    assert cast["owner"].get(f"/api/v1/repositories/{other}/tags/{tid}"
                             ).status_code == 404


def test_lists_sorted_by_a_unique_name_need_no_tie_break(world: Any) -> None:
    from .test_query_count import counting

    admin = world.user("root", admin=True)
    world.team(admin, "t")
    ns = world.namespace(admin, "ns", "t")
    for name in ("b", "c", "a"):
        world.push(f"ns/{name}", name, D1)
        world.push("ns/a", f"t{name}", D1)
    repo = world.repo_id("ns/a")
    with counting(world) as seen:
        repos = admin.get(f"/api/v1/namespaces/{ns}/repositories?sort_order=desc")
        tags = admin.get(f"/api/v1/repositories/{repo}/tags")
    assert [r["name"] for r in repos.get_json()] == ["c", "b", "a"]
    assert [t["name"] for t in tags.get_json()] == ["a", "ta", "tb", "tc"]
    ordered = [" ".join(s.split()) for s in seen if "ORDER BY" in s]
    assert any("ORDER BY repositories.name DESC LIMIT" in s for s in ordered), ordered
    assert any("ORDER BY tags.name ASC LIMIT" in s for s in ordered), ordered
    by_id = admin.get(f"/api/v1/repositories/{repo}/tags?sort_attr=size").get_json()
    assert [t["name"] for t in by_id] == ["tb", "tc", "a", "ta"]  # equal sizes: by id
