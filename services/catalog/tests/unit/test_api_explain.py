"""GET /api/v1/authorize/explain."""

from __future__ import annotations

from typing import Any


def test_explain_own_access(world: Any) -> None:
    owner, viewer = world.user("owner"), world.user("viewer")
    world.team(owner, "devs", viewer="viewer")
    world.namespace(owner, "devs", "devs")
    resp = viewer.get("/api/v1/authorize/explain?scope=repository:devs/app:pull,push")
    assert resp.status_code == 200
    [scope] = resp.get_json()["scopes"]
    assert scope["actions"] == [
        {"action": "pull", "allowed": True, "rule": "team_viewer"},
        {"action": "push", "allowed": False, "rule": "team_viewer_cannot_push"}]


def test_explain_push_into_unknown_namespace(world: Any) -> None:
    user = world.user("joe")
    body = user.get("/api/v1/authorize/explain?scope=repository:ghost/app:push"
                    ).get_json()
    assert body["scopes"][0]["actions"][0] == {
        "action": "push", "allowed": False,
        "rule": "namespace_unknown_only_admins_create"}


def test_admin_explains_someone_else(world: Any) -> None:
    admin, joe = world.user("root", admin=True), world.user("joe")
    resp = admin.get("/api/v1/authorize/explain?user=joe"
                     "&scope=registry:catalog:*&scope=repository:joe/x:push")
    body = resp.get_json()
    assert body["user"] == "joe"
    assert [s["actions"][0]["allowed"] for s in body["scopes"]] == [False, True]
    denied = joe.get("/api/v1/authorize/explain?user=root&scope=registry:catalog:*")
    assert denied.status_code == 403
    assert admin.get("/api/v1/authorize/explain?user=ghost&scope=registry:catalog:*"
                     ).status_code == 404


def test_explain_validation(world: Any) -> None:
    joe = world.user("joe")
    assert world.client.get("/api/v1/authorize/explain?scope=registry:catalog:*"
                            ).status_code == 401
    assert joe.get("/api/v1/authorize/explain").status_code == 422
    assert joe.get("/api/v1/authorize/explain?scope=garbage").status_code == 400
    assert joe.get("/api/v1/authorize/explain?scope=repository:Bad:pull"
                   ).status_code == 400
    assert joe.get("/api/v1/authorize/explain?scope=registry:catalog:*"
                   "&service=nowhere").status_code == 404
