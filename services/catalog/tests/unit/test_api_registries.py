"""Registries (admins only)."""

from __future__ import annotations

from typing import Any

import pytest

NEW = {"registry": {"name": "second", "hostname": "reg2.test:5000",
                    "use_ssl": False, "external_hostname": "pull.example.com"}}


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/v1/registries"), ("post", "/api/v1/registries"),
    ("put", "/api/v1/registries/1"), ("get", "/api/v1/registries/validate")])
def test_login_then_admin_required(world: Any, method: str, path: str) -> None:
    assert getattr(world.client, method)(path, json=NEW).status_code == 401
    user = world.user("joe")
    assert getattr(world.client, method)(path, json=NEW,
                                         headers=user.headers).status_code == 403


def test_list(world: Any) -> None:
    admin = world.user("root", admin=True)
    [reg] = admin.get("/api/v1/registries").get_json()
    assert reg["name"] == "default" and reg["hostname"] == "registry.test:5000"
    assert "notification_secret" not in reg


def test_create_makes_its_global_namespace(world: Any) -> None:
    admin = world.user("root", admin=True)
    resp = admin.post("/api/v1/registries", json=NEW)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["service"] == "reg2.test:5000" and body["url"] == "http://reg2.test:5000"
    regs = world.client.get("/internal/v1/registries",
                            headers=world.internal()).get_json()["registries"]
    assert len(regs) == 2
    globals_ = [n for n in admin.get("/api/v1/namespaces").get_json() if n["global"]]
    assert sorted(n["registry_id"] for n in globals_) == sorted(r["id"] for r in regs)
    assert "catalog.registry.created" in world.bus.types()


@pytest.mark.parametrize("body", [
    {"registry": {"hostname": "x:1"}}, {"registry": {"name": "n"}},
    {"registry": {"name": "n", "hostname": "bad host"}},
    {"registry": {"name": "default", "hostname": "other:1"}},
    {"registry": {"name": "n", "hostname": "h:1", "use_ssl": "maybe"}}])
def test_create_invalid_is_422(world: Any, body: dict[str, Any]) -> None:
    admin = world.user("root", admin=True)
    assert admin.post("/api/v1/registries", json=body).status_code == 422


def test_update(world: Any) -> None:
    admin = world.user("root", admin=True)
    reg_id = admin.get("/api/v1/registries").get_json()[0]["id"]
    resp = admin.put(f"/api/v1/registries/{reg_id}",
                     json={"registry": {"external_hostname": "pull.example.com"}})
    assert resp.status_code == 200
    assert resp.get_json()["external_hostname"] == "pull.example.com"
    assert admin.put("/api/v1/registries/99999",
                     json={"registry": {"name": "x"}}).status_code == 404
    assert admin.put(f"/api/v1/registries/{reg_id}",
                     json={"registry": {"hostname": "no spaces"}}).status_code == 422
    assert "catalog.registry.updated" in world.bus.types()


def test_validate(world: Any) -> None:
    admin = world.user("root", admin=True)
    ok = admin.get("/api/v1/registries/validate?name=new&hostname=h.test:5000")
    assert ok.get_json() == {"messages": {}, "valid": True}
    taken = admin.get("/api/v1/registries/validate?name=default&hostname=bad host")
    body = taken.get_json()
    assert body["valid"] is False and set(body["messages"]) == {"name", "hostname"}
    only = admin.get("/api/v1/registries/validate?name=default&hostname=bad host"
                     "&only[]=hostname").get_json()
    assert set(only["messages"]) == {"hostname"}
