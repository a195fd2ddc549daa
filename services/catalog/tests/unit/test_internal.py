"""POST /internal/v1/authorize and GET /internal/v1/registries."""

from __future__ import annotations

from typing import Any

SERVICE = "registry.test:5000"


def authorize(world: Any, principal: dict[str, Any], *scopes: tuple[str, str, list[str]],
              service: str = SERVICE, headers: dict[str, str] | None = None) -> Any:
    body = {"principal": principal, "service": service,
            "scopes": [{"type": t, "class": None, "name": n, "actions": a}
                       for t, n, a in scopes]}
    return world.client.post("/internal/v1/authorize", json=body,
                             headers=world.internal() if headers is None else headers)


def granted(resp: Any) -> list[list[str]]:
    assert resp.status_code == 200, resp.get_json()
    return [s["actions"] for s in resp.get_json()["scopes"]]


def test_requires_internal_secret(world: Any) -> None:
    alice = world.user("alice")
    resp = authorize(world, alice.principal(), ("repository", "alice/app", ["pull"]),
                     headers={})
    assert resp.status_code == 401
    assert resp.get_json()["errors"][0]["code"] == "UNAUTHORIZED"
    bad = authorize(world, alice.principal(), ("repository", "alice/app", ["pull"]),
                    headers={"X-Berth-Internal": "wrong"})
    assert bad.status_code == 401


def test_user_api_token_is_not_enough(world: Any) -> None:
    alice = world.user("alice")
    resp = world.client.post("/internal/v1/authorize", headers=alice.headers,
                             json={"principal": alice.principal(), "service": SERVICE,
                                   "scopes": []})
    assert resp.status_code == 401


def test_brand_new_user_can_push_to_personal_namespace_at_once(world: Any) -> None:
    principal = {"id": 555, "username": "newbie", "admin": False, "kind": "user"}
    resp = authorize(world, principal, ("repository", "newbie/app", ["pull", "push"]),
                     ("repository", "someone/app", ["pull", "push"]))
    assert granted(resp) == [["pull", "push"], []]
    created = [e for e in world.bus.published if e.type == "catalog.namespace.created"]
    assert [e.data["name"] for e in created] == ["newbie"]
    assert created[0].actor["name"] == "newbie"


def test_granted_subset_in_request_order(world: Any) -> None:
    owner, dev, viewer = world.user("owner"), world.user("dev"), world.user("viewer")
    world.team(owner, "devs", dev="contributor", viewer="viewer")
    world.namespace(owner, "devs", "devs")
    scopes = [("repository", "devs/app", ["pull", "push", "delete", "*"]),
              ("registry", "catalog", ["*"])]
    assert granted(authorize(world, owner.principal(), *scopes)) == [
        ["pull", "push", "delete", "*"], []]
    assert granted(authorize(world, dev.principal(), *scopes)) == [["pull", "push"], []]
    assert granted(authorize(world, viewer.principal(), *scopes)) == [["pull"], []]


def test_admin_gets_catalog_and_push_into_unknown_namespace(world: Any) -> None:
    admin = world.user("root", admin=True)
    resp = authorize(world, admin.principal(), ("registry", "catalog", ["*"]),
                     ("repository", "brandnew/app", ["push", "pull"]))
    assert granted(resp) == [["*"], ["push", "pull"]]


def test_non_admin_push_into_unknown_namespace_is_refused(world: Any) -> None:
    alice = world.user("alice")
    resp = authorize(world, alice.principal(), ("repository", "nowhere/app", ["push"]))
    assert granted(resp) == [[]]


def test_service_principal_gets_everything(world: Any) -> None:
    service = {"id": None, "username": "berth", "admin": True, "kind": "service"}
    resp = authorize(world, service, ("registry", "catalog", ["*"]),
                     ("repository", "x/y", ["pull", "delete"]))
    assert granted(resp) == [["*"], ["pull", "delete"]]


def test_anonymous_pulls_global_only(world: Any) -> None:
    anon = {"id": None, "username": "", "admin": False, "kind": "anonymous"}
    resp = authorize(world, anon, ("repository", "busybox", ["pull", "push"]),
                     ("repository", "anon/app", ["pull"]))
    assert granted(resp) == [["pull"], []]


def test_unknown_service_grants_nothing(world: Any) -> None:
    admin = world.user("root", admin=True)
    resp = authorize(world, admin.principal(), ("repository", "root/app", ["pull"]),
                     service="elsewhere:5000")
    assert granted(resp) == [[]]


def test_disabled_user_gets_nothing(world: Any) -> None:
    mallory = world.user("mallory", enabled=False)
    resp = authorize(world, mallory.principal(), ("repository", "mallory/app",
                                                  ["pull", "push"]))
    assert granted(resp) == [[]]


def test_resource_class_and_empty_actions_are_accepted(world: Any) -> None:
    alice = world.user("alice")
    resp = world.client.post("/internal/v1/authorize", headers=world.internal(), json={
        "principal": alice.principal(), "service": SERVICE,
        "scopes": [{"type": "repository", "class": "plugin", "name": "alice/p",
                    "actions": ["pull"]},
                   {"type": "repository", "class": None, "name": "alice/q",
                    "actions": []}]})
    assert granted(resp) == [["pull"], []]


def test_malformed_scope_is_400_for_the_whole_request(world: Any) -> None:
    alice = world.user("alice")
    for bad in ([{"type": "repository", "name": "alice/app", "actions": "pull"}],
                [{"type": "teapot", "name": "x", "actions": ["pull"]}],
                [{"type": "repository", "class": "Bad Class", "name": "alice/app",
                  "actions": ["pull"]}],
                [{"type": "repository", "name": "Alice/App", "actions": ["pull"]}],
                ["repository:alice/app:pull"]):
        resp = world.client.post("/internal/v1/authorize", headers=world.internal(),
                                 json={"principal": alice.principal(),
                                       "service": SERVICE, "scopes": bad})
        assert resp.status_code == 400, bad
        assert resp.get_json()["errors"][0]["code"] == "BAD_REQUEST"
    resp = world.client.post("/internal/v1/authorize", headers=world.internal(),
                             data="{nope", content_type="application/json")
    assert resp.status_code == 400
    resp = world.client.post("/internal/v1/authorize", headers=world.internal(),
                             json={"principal": {"kind": "user"}, "service": SERVICE,
                                   "scopes": []})
    assert resp.status_code == 400


def test_registries_for_the_syncer(world: Any) -> None:
    resp = world.client.get("/internal/v1/registries", headers=world.internal())
    assert resp.status_code == 200
    regs = resp.get_json()["registries"]
    assert [(r["name"], r["service"], r["notification_secret"]) for r in regs] == [
        ("default", SERVICE, "notify-secret")]
    assert world.client.get("/internal/v1/registries").status_code == 401


def test_default_registry_is_ensured_once(make_world: Any) -> None:
    first = make_world(new_app=True)
    second = make_world(new_app=True)  # a second start on the same database
    for w in (first, second):
        regs = w.client.get("/internal/v1/registries",
                            headers=w.internal()).get_json()["registries"]
        assert len(regs) == 1
