"""Stars and comments."""

from __future__ import annotations

from typing import Any

import pytest

D1 = "sha256:" + "1" * 64


@pytest.fixture
def cast(world: Any) -> dict[str, Any]:
    alice, bob = world.user("alice"), world.user("bob")
    world.push("alice/app", "v1", D1)  # private: bob can't see it
    world.push("busybox", "v1", D1)    # global: everyone can
    return {"alice": alice, "bob": bob, "admin": world.user("root", admin=True),
            "private": world.repo_id("alice/app"), "public": world.repo_id("busybox")}


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/v1/stars"), ("post", "/api/v1/repositories/{r}/stars"),
    ("delete", "/api/v1/repositories/{r}/stars"),
    ("post", "/api/v1/repositories/{r}/toggle_star"),
    ("post", "/api/v1/repositories/{r}/comments"),
    ("delete", "/api/v1/repositories/{r}/comments/1")])
def test_login_required(world: Any, cast: dict[str, Any], method: str,
                        path: str) -> None:
    resp = getattr(world.client, method)(path.format(r=cast["public"]), json={})
    assert resp.status_code == 401


def test_star_and_unstar(world: Any, cast: dict[str, Any]) -> None:
    bob, repo = cast["bob"], cast["public"]
    resp = bob.post(f"/api/v1/repositories/{repo}/stars")
    assert resp.status_code == 201 and resp.get_json()["starred"] is True
    assert resp.get_json()["stars"] == 1
    assert bob.post(f"/api/v1/repositories/{repo}/stars").status_code == 200
    assert [r["id"] for r in bob.get("/api/v1/stars").get_json()] == [repo]
    assert bob.delete(f"/api/v1/repositories/{repo}/stars").status_code == 204
    assert bob.get("/api/v1/stars").get_json() == []
    toggled = bob.post(f"/api/v1/repositories/{repo}/toggle_star").get_json()
    assert toggled["starred"] is True
    types = world.bus.types()
    assert "catalog.star.added" in types and "catalog.star.removed" in types


def test_cannot_star_what_you_cannot_see(cast: dict[str, Any]) -> None:
    bob = cast["bob"]
    assert bob.post(f"/api/v1/repositories/{cast['private']}/stars").status_code == 404
    assert bob.post("/api/v1/repositories/99999/stars").status_code == 404
    assert bob.get("/api/v1/stars?page=0").status_code == 422


def test_comments_markdown_is_sanitised(world: Any, cast: dict[str, Any]) -> None:
    path = f"/api/v1/repositories/{cast['public']}/comments"
    resp = cast["bob"].post(path, json={"comment": {
        "body": "**hi** <script>alert(1)</script> [x](javascript:alert(1))"}})
    assert resp.status_code == 201
    html = resp.get_json()["body_md"]
    assert "<strong>hi</strong>" in html
    assert "<script" not in html and "javascript:" not in html
    listed = world.client.get(path).get_json()
    assert [c["author"]["username"] for c in listed] == ["bob"]
    assert listed[0]["destroyable"] is False  # anonymous reader
    assert "catalog.comment.created" in world.bus.types()


def test_comment_validation_and_visibility(cast: dict[str, Any]) -> None:
    bob = cast["bob"]
    pub = f"/api/v1/repositories/{cast['public']}/comments"
    assert bob.post(pub, json={"comment": {"body": "   "}}).status_code == 422
    assert bob.post(pub, json={"comment": {}}).status_code == 422
    assert bob.post(pub, json={"comment": "text"}).status_code == 422
    priv = f"/api/v1/repositories/{cast['private']}/comments"
    assert bob.post(priv, json={"comment": {"body": "x"}}).status_code == 404
    assert bob.get(priv).status_code == 404
    assert bob.get("/api/v1/repositories/99999/comments").status_code == 404


def test_comment_deleted_by_author_or_admin(world: Any, cast: dict[str, Any]) -> None:
    path = f"/api/v1/repositories/{cast['public']}/comments"
    first = cast["bob"].post(path, json={"comment": {"body": "one"}}).get_json()["id"]
    second = cast["bob"].post(path, json={"comment": {"body": "two"}}).get_json()["id"]
    assert cast["alice"].delete(f"{path}/{first}").status_code == 403
    assert cast["bob"].delete(f"{path}/{first}").status_code == 204
    assert cast["admin"].delete(f"{path}/{second}").status_code == 204
    assert cast["admin"].delete(f"{path}/{second}").status_code == 404
    assert "catalog.comment.deleted" in world.bus.types()
