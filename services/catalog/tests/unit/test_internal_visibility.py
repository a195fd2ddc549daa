"""GET /internal/v1/visibility: the namespaces and teams a user may see."""

from __future__ import annotations

from typing import Any

import pytest


def visibility(world: Any, user_id: object, headers: dict[str, str] | None = None
               ) -> Any:
    return world.client.get("/internal/v1/visibility",
                            query_string={"user_id": str(user_id)},
                            headers=world.internal() if headers is None else headers)


def names(resp: Any) -> tuple[set[str], set[str]]:
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    return ({n["name"] for n in body["namespaces"]}, {t["name"] for t in body["teams"]})


@pytest.fixture
def scene(world: Any) -> dict[str, Any]:
    """owner's team 'devs' (dev a contributor) owns private 'devs', protected
    'shared' and public 'open'; 'other' is another team's private namespace."""
    owner, dev, outsider = world.user("owner"), world.user("dev"), world.user("outsider")
    world.team(owner, "devs", dev="contributor")
    world.team(outsider, "others")
    ids = {"devs": world.namespace(owner, "devs", "devs"),
           "shared": world.namespace(owner, "shared", "devs", "protected"),
           "open": world.namespace(owner, "open", "devs", "public"),
           "other": world.namespace(outsider, "other", "others")}
    return {"owner": owner, "dev": dev, "outsider": outsider, "ids": ids}


def test_a_member_sees_the_team_namespaces_and_the_public_ones(
        world: Any, scene: dict[str, Any]) -> None:
    namespaces, teams = names(visibility(world, scene["dev"].id))
    assert {"devs", "shared", "open", "dev"} <= namespaces
    assert "other" not in namespaces and "owner" not in namespaces
    assert teams == {"devs"}


def test_a_non_member_sees_public_and_protected_but_not_private(
        world: Any, scene: dict[str, Any]) -> None:
    namespaces, teams = names(visibility(world, scene["outsider"].id))
    assert {"shared", "open", "other", "outsider"} <= namespaces
    assert "devs" not in namespaces and "dev" not in namespaces
    assert teams == {"others"}


def test_namespaces_carry_ids_and_their_registry(
        world: Any, scene: dict[str, Any]) -> None:
    body = visibility(world, scene["dev"].id).get_json()
    by_name = {n["name"]: n for n in body["namespaces"]}
    assert by_name["devs"]["id"] == scene["ids"]["devs"]
    assert all(isinstance(n["registry"], str) and n["registry"]
               for n in body["namespaces"])
    assert body["user_id"] == scene["dev"].id and body["admin"] is False
    assert by_name["devs"]["global"] is False
    assert [n for n in body["namespaces"] if n["global"]], "the global namespace"


def test_an_admin_sees_every_namespace(world: Any, scene: dict[str, Any]) -> None:
    root = world.user("root", admin=True)
    body = visibility(world, root.id).get_json()
    assert body["admin"] is True
    assert set(scene["ids"].values()) <= {n["id"] for n in body["namespaces"]}


def test_a_disabled_user_sees_nothing(world: Any, scene: dict[str, Any]) -> None:
    ghost = world.user("ghost", enabled=False)
    assert names(visibility(world, ghost.id))[0] == set()


def test_requires_the_internal_secret(world: Any, scene: dict[str, Any]) -> None:
    for headers in ({}, {"X-Berth-Internal": "wrong"}, scene["dev"].headers):
        resp = visibility(world, scene["dev"].id, headers=headers)
        assert resp.status_code == 401
        assert resp.get_json()["errors"][0]["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize("raw", ["", "abc", "-1", "1.5", "٣", "9" * 30])
def test_a_malformed_user_id_is_422(world: Any, raw: str) -> None:
    resp = visibility(world, raw)
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["detail"] == {"field": "user_id"}


def test_an_unknown_user_is_404(world: Any) -> None:
    resp = visibility(world, 987654)
    assert resp.status_code == 404
    assert resp.get_json()["errors"][0]["code"] == "USER_UNKNOWN"
