"""Teams and members: 401, 403, 404, 422 and success for every endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from berth.catalog.models import Team
from sqlalchemy import select


@pytest.fixture
def cast(world: Any) -> dict[str, Any]:
    owner, dev, viewer, stranger = (world.user(n) for n in
                                    ("owner", "dev", "viewer", "stranger"))
    team_id = world.team(owner, "devs", dev="contributor", viewer="viewer")
    return {"owner": owner, "dev": dev, "viewer": viewer, "stranger": stranger,
            "admin": world.user("root", admin=True), "team": team_id}


def code(resp: Any) -> str:
    body = resp.get_json()
    assert set(body) == {"message", "errors"}, body
    return str(body["errors"][0]["code"])


ENDPOINTS = [
    ("get", "/api/v1/teams"), ("post", "/api/v1/teams"),
    ("get", "/api/v1/teams/{t}"), ("put", "/api/v1/teams/{t}"),
    ("delete", "/api/v1/teams/{t}"), ("get", "/api/v1/teams/{t}/namespaces"),
    ("get", "/api/v1/teams/{t}/members"), ("post", "/api/v1/teams/{t}/members"),
    ("put", "/api/v1/teams/{t}/members/1"), ("delete", "/api/v1/teams/{t}/members/1"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_unauthenticated_is_401(world: Any, cast: dict[str, Any], method: str,
                                path: str) -> None:
    resp = getattr(world.client, method)(path.format(t=cast["team"]), json={})
    assert resp.status_code == 401 and code(resp) == "UNAUTHORIZED"
    bad = getattr(world.client, method)(path.format(t=cast["team"]), json={},
                                        headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_list_shows_my_teams_with_role_and_counts(cast: dict[str, Any]) -> None:
    resp = cast["dev"].get("/api/v1/teams")
    assert resp.status_code == 200 and resp.headers["X-Total"] == "1"
    [team] = resp.get_json()
    assert team["name"] == "devs" and team["role"] == "contributor"
    assert team["users_count"] == 3 and team["updatable"] is False
    assert cast["stranger"].get("/api/v1/teams").get_json() == []
    names = [t["name"] for t in cast["admin"].get("/api/v1/teams").get_json()]
    assert names == ["devs"]  # hidden personal/global teams never listed


def test_list_rejects_unknown_sort_key(cast: dict[str, Any]) -> None:
    resp = cast["owner"].get("/api/v1/teams?sort_attr=password")
    assert resp.status_code == 422 and code(resp) == "INVALID"


def test_create_team(world: Any, cast: dict[str, Any]) -> None:
    resp = cast["stranger"].post("/api/v1/teams",
                                 json={"name": "qa", "description": "*QA*"})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["role"] == "owner" and body["description_md"] == "<p><em>QA</em></p>"
    assert "catalog.team.created" in world.bus.types()
    env = [e for e in world.bus.published if e.type == "catalog.team.created"][-1]
    assert env.actor["name"] == "stranger"


def test_create_team_form_body(cast: dict[str, Any]) -> None:
    resp = cast["stranger"].post("/api/v1/teams", data={"team[name]": "formed"})
    assert resp.status_code == 201 and resp.get_json()["name"] == "formed"


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "~sneaky"},
                                  {"name": 12}, {"name": "x" * 300}])
def test_create_team_invalid_is_422(cast: dict[str, Any], body: dict[str, Any]) -> None:
    resp = cast["owner"].post("/api/v1/teams", json=body)
    assert resp.status_code == 422, resp.get_json()


def test_create_team_duplicate_is_409(cast: dict[str, Any]) -> None:
    resp = cast["owner"].post("/api/v1/teams", json={"name": "devs"})
    assert resp.status_code == 409 and code(resp) == "NAME_TAKEN"


def test_create_team_malformed_json_is_400(world: Any, cast: dict[str, Any]) -> None:
    resp = world.client.post("/api/v1/teams", data="{", headers={
        **cast["owner"].headers, "Content-Type": "application/json"})
    assert resp.status_code == 400


def test_create_team_forbidden_when_knob_off(make_world: Any) -> None:
    w = make_world(create_team=False)
    resp = w.user("u").post("/api/v1/teams", json={"name": "t"})
    assert resp.status_code == 403 and code(resp) == "DENIED"
    assert w.user("a", admin=True).post("/api/v1/teams",
                                        json={"name": "t"}).status_code == 201


def test_show_team(cast: dict[str, Any]) -> None:
    t = cast["team"]
    assert cast["viewer"].get(f"/api/v1/teams/{t}").get_json()["role"] == "viewer"
    assert cast["admin"].get(f"/api/v1/teams/{t}").status_code == 200
    # Not a member: the same 404 as a team that does not exist.
    assert cast["stranger"].get(f"/api/v1/teams/{t}").status_code == 404
    assert cast["owner"].get("/api/v1/teams/99999").status_code == 404


def test_update_team(world: Any, cast: dict[str, Any]) -> None:
    t = cast["team"]
    resp = cast["owner"].put(f"/api/v1/teams/{t}",
                             json={"team": {"name": "developers"}})
    assert resp.status_code == 200 and resp.get_json()["name"] == "developers"
    assert cast["dev"].put(f"/api/v1/teams/{t}",
                           json={"team": {"name": "x"}}).status_code == 403
    assert cast["stranger"].put(f"/api/v1/teams/{t}",
                                json={"team": {"name": "x"}}).status_code == 404
    assert cast["owner"].put("/api/v1/teams/99999",
                             json={"team": {"name": "x"}}).status_code == 404
    assert cast["owner"].put(f"/api/v1/teams/{t}",
                             json={"team": {"name": ""}}).status_code == 200
    assert cast["owner"].put(f"/api/v1/teams/{t}",
                             json={"team": {"name": "!!"}}).status_code == 422
    assert "catalog.team.updated" in world.bus.types()


def test_members(world: Any, cast: dict[str, Any]) -> None:
    t = cast["team"]
    resp = cast["viewer"].get(f"/api/v1/teams/{t}/members")
    assert resp.status_code == 200
    roles = {m["username"]: m["role"] for m in resp.get_json()}
    assert roles == {"owner": "owner", "dev": "contributor", "viewer": "viewer"}
    dev = next(m for m in resp.get_json() if m["username"] == "dev")
    assert dev["id"] == cast["dev"].id and dev["namespace_id"] is not None
    assert cast["stranger"].get(f"/api/v1/teams/{t}/members").status_code == 404
    assert cast["owner"].get("/api/v1/teams/99999/members").status_code == 404


def test_add_member(world: Any, cast: dict[str, Any]) -> None:
    t = cast["team"]
    path = f"/api/v1/teams/{t}/members"
    resp = cast["owner"].post(path, json={"user": "stranger", "role": "viewer"})
    assert resp.status_code == 201 and resp.get_json()["role"] == "viewer"
    assert cast["dev"].post(path, json={"user": "root",
                                        "role": "viewer"}).status_code == 403
    assert cast["owner"].post(path, json={"user": "root",
                                          "role": "king"}).status_code == 422
    assert cast["owner"].post(path, json={"user": "ghost",
                                          "role": "viewer"}).status_code == 422
    assert cast["owner"].post(path, json={"role": "viewer"}).status_code == 422
    assert cast["owner"].post(path, json={"user": "dev",
                                          "role": "viewer"}).status_code == 409
    assert cast["owner"].post("/api/v1/teams/99999/members",
                              json={"user": "root", "role": "viewer"}).status_code == 404
    assert "catalog.team.member_added" in world.bus.types()


def _member_id(cast: dict[str, Any], username: str) -> int:
    members = cast["owner"].get(f"/api/v1/teams/{cast['team']}/members").get_json()
    return next(m["member_id"] for m in members if m["username"] == username)


def test_update_member_role_and_last_owner(world: Any, cast: dict[str, Any]) -> None:
    t = cast["team"]
    dev_id, owner_id = _member_id(cast, "dev"), _member_id(cast, "owner")
    resp = cast["owner"].put(f"/api/v1/teams/{t}/members/{dev_id}",
                             json={"role": "owner"})
    assert resp.status_code == 200 and resp.get_json()["role"] == "owner"
    assert cast["viewer"].put(f"/api/v1/teams/{t}/members/{dev_id}",
                              json={"role": "viewer"}).status_code == 403
    assert cast["owner"].put(f"/api/v1/teams/{t}/members/{dev_id}",
                             json={"role": "boss"}).status_code == 422
    assert cast["owner"].put(f"/api/v1/teams/{t}/members/99999",
                             json={"role": "viewer"}).status_code == 404
    # Two owners now: one may step down, the last may not.
    assert cast["owner"].put(f"/api/v1/teams/{t}/members/{owner_id}",
                             json={"role": "viewer"}).status_code == 200
    resp = cast["dev"].put(f"/api/v1/teams/{t}/members/{dev_id}",
                           json={"role": "viewer"})
    assert resp.status_code == 409 and code(resp) == "LAST_OWNER"
    assert "catalog.team.member_role_changed" in world.bus.types()


def test_remove_member(world: Any, cast: dict[str, Any]) -> None:
    t = cast["team"]
    viewer_id, owner_id = _member_id(cast, "viewer"), _member_id(cast, "owner")
    assert cast["dev"].delete(f"/api/v1/teams/{t}/members/{viewer_id}"
                              ).status_code == 403
    assert cast["owner"].delete(f"/api/v1/teams/{t}/members/{viewer_id}"
                                ).status_code == 204
    assert cast["owner"].delete(f"/api/v1/teams/{t}/members/{viewer_id}"
                                ).status_code == 404
    resp = cast["owner"].delete(f"/api/v1/teams/{t}/members/{owner_id}")
    assert resp.status_code == 409 and code(resp) == "LAST_OWNER"
    assert "catalog.team.member_removed" in world.bus.types()


def test_hidden_teams_get_no_members(world: Any, cast: dict[str, Any]) -> None:
    admin = cast["admin"]
    with world.session() as s:
        hidden = s.scalar(select(Team.id).where(Team.hidden.is_(True)))
    resp = admin.post(f"/api/v1/teams/{hidden}/members",
                      json={"user": "dev", "role": "viewer"})
    assert resp.status_code == 403
    assert resp.get_json()["errors"][0]["detail"]["rule"] == "hidden_team"
    # Users never see hidden teams at all.
    assert cast["dev"].get(f"/api/v1/teams/{hidden}").status_code == 404


def test_team_namespaces(world: Any, cast: dict[str, Any]) -> None:
    t = cast["team"]
    world.namespace(cast["owner"], "devs", "devs")
    resp = cast["viewer"].get(f"/api/v1/teams/{t}/namespaces")
    assert resp.status_code == 200
    assert [n["name"] for n in resp.get_json()] == ["devs"]
    assert cast["stranger"].get(f"/api/v1/teams/{t}/namespaces").status_code == 404
    assert cast["owner"].get("/api/v1/teams/99999/namespaces").status_code == 404
    assert cast["owner"].get(f"/api/v1/teams/{t}/namespaces?per_page=x"
                             ).status_code == 422


def test_delete_team(world: Any, cast: dict[str, Any]) -> None:
    t = cast["team"]
    world.namespace(cast["owner"], "devs", "devs")
    other = world.team(cast["owner"], "others")
    assert cast["dev"].delete(f"/api/v1/teams/{t}").status_code == 403
    assert cast["stranger"].delete(f"/api/v1/teams/{t}").status_code == 404
    assert cast["owner"].delete("/api/v1/teams/99999").status_code == 404
    resp = cast["owner"].delete(f"/api/v1/teams/{t}")
    assert resp.status_code == 409  # it owns namespaces: say where they go
    assert cast["owner"].delete(f"/api/v1/teams/{t}?new_team=nope").status_code == 422
    assert cast["owner"].delete(f"/api/v1/teams/{t}?new_team=others"
                                ).status_code == 204
    spaces = cast["owner"].get(f"/api/v1/teams/{other}/namespaces").get_json()
    assert [n["name"] for n in spaces] == ["devs"]
    assert "catalog.team.deleted" in world.bus.types()
    assert cast["owner"].delete(f"/api/v1/teams/{other}?delete_namespaces=true"
                                ).status_code == 204
    assert cast["owner"].get("/api/v1/namespaces").get_json()[-1]["name"] != "devs"


def test_a_user_created_moments_ago_can_be_added_before_its_event_arrives(
        world: Any, cast: dict[str, Any]) -> None:
    from berth.catalog.models import Namespace, User
    from berth.catalog.services.directory import KnownUser

    world.directory.users["newcomer"] = KnownUser(
        id=4242, username="newcomer", admin=False, enabled=True, bot=False)
    path = f"/api/v1/teams/{cast['team']}/members"
    resp = cast["owner"].post(path, json={"user": "newcomer", "role": "contributor"})
    assert resp.status_code == 201, resp.get_json()
    with world.session() as s:
        user = s.get(User, 4242)
        assert user is not None and user.username == "newcomer"
        personal = s.scalar(select(Namespace).where(Namespace.owner_user_id == 4242))
        assert personal is not None  # as the creation event would have made it
    # The event arriving later changes nothing; a name the token service does
    # not know stays unknown.
    assert cast["owner"].post(path, json={"user": "newcomer",
                                          "role": "viewer"}).status_code == 409
    assert cast["owner"].post(path, json={"user": "nobody",
                                          "role": "viewer"}).status_code == 422


def test_an_unreachable_user_directory_is_503_not_unknown_user(
        world: Any, cast: dict[str, Any]) -> None:
    from berth.catalog.services.directory import TokenDirectory

    lookup = world.app.extensions["berth.catalog"]
    saved = lookup.lookup_user
    lookup.lookup_user = TokenDirectory("http://127.0.0.1:9", "secret", timeout=0.5)
    try:
        resp = cast["owner"].post(f"/api/v1/teams/{cast['team']}/members",
                                  json={"user": "newcomer", "role": "viewer"})
    finally:
        lookup.lookup_user = saved
    assert resp.status_code == 503 and code(resp) == "UNAVAILABLE"
    # A mirrored user never needs the directory.
    assert cast["owner"].post(f"/api/v1/teams/{cast['team']}/members",
                              json={"user": "stranger", "role": "viewer"}
                              ).status_code == 201
