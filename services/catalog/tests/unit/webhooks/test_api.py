"""The webhook endpoints: 401/403/404/422 and success, Portus' policy, events."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import LOCAL

WH = "/api/v1/namespaces/{}/webhooks"


@pytest.fixture
def env(make_world: Any, receiver: Any) -> Any:
    """admin; alice owns team "dev" (namespace "dev"), bob is a viewer in it,
    carol is outside it; one webhook on "dev"."""
    world = make_world(webhook_allowed_networks=LOCAL)
    admin = world.user("root", admin=True)
    alice, bob, carol = world.user("alice"), world.user("bob"), world.user("carol")
    world.team(alice, "dev", bob="viewer")
    ns = world.namespace(alice, "dev", "dev", visibility="protected")
    resp = alice.post(WH.format(ns), json={"webhook": {
        "name": "ci", "url": receiver.url(), "username": "u", "password": "p"}})
    assert resp.status_code == 201, resp.get_json()

    class Env:
        pass

    e = Env()
    e.world, e.admin, e.alice, e.bob, e.carol = world, admin, alice, bob, carol
    e.ns, e.hook, e.receiver = ns, resp.get_json(), receiver
    return e


def _error(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.get_json()
    body: dict[str, Any] = resp.get_json()
    assert body["message"] and body["errors"][0]["code"]
    return body


def test_create_shows_the_secret_once_and_never_the_password(env: Any) -> None:
    hook = env.hook
    assert len(hook["secret"]) == 64
    assert hook["events"] == ["push", "delete"] and hook["enabled"] is True
    assert hook["request_method"] == "POST"
    assert hook["content_type"] == "application/json"
    assert hook["has_password"] is True and "password" not in hook
    shown = env.alice.get(f"{WH.format(env.ns)}/{hook['id']}").get_json()
    assert "secret" not in shown and "password" not in shown
    assert shown["updatable"] is True and shown["destroyable"] is True
    with env.world.session() as s:
        from berth.catalog.models import Webhook

        row = s.get(Webhook, hook["id"])
        assert hook["secret"] not in row.secret_encrypted
        assert row.password_encrypted and row.password_encrypted != "p"


def test_webhook_events_are_published_after_commit(env: Any) -> None:
    base = f"{WH.format(env.ns)}/{env.hook['id']}"
    env.alice.put(f"{base}/toggle_enabled")
    env.alice.put(f"{base}/toggle_enabled")
    env.alice.put(base, json={"webhook": {"name": "renamed"}})
    env.alice.delete(base)
    webhook_types = [t for t in env.world.bus.types()
                     if t.startswith("catalog.webhook.")]
    assert webhook_types == ["catalog.webhook.created", "catalog.webhook.disabled",
                             "catalog.webhook.enabled", "catalog.webhook.updated",
                             "catalog.webhook.destroyed"]
    created = next(e for e in env.world.bus.published
                   if e.type == "catalog.webhook.created")
    assert created.data["details"]["host"] == "127.0.0.1"
    assert "/hook" not in str(created.data)  # a URL path may carry a token


def test_unauthenticated_is_401(env: Any) -> None:
    client = env.world.client
    _error(client.get(WH.format(env.ns)), 401)
    _error(client.post(WH.format(env.ns), json={"name": "x", "url": "http://x"}), 401)
    _error(client.delete(f"{WH.format(env.ns)}/{env.hook['id']}"), 401)


READS = ("", "/{hook}", "/{hook}/deliveries", "/{hook}/headers")
WRITES = [
    ("post", "", {"webhook": {"name": "x", "url": "http://127.0.0.1:9/"}}),
    ("put", "/{hook}", {"webhook": {"name": "y"}}),
    ("put", "/{hook}/toggle_enabled", None),
    ("delete", "/{hook}", None),
    ("post", "/{hook}/headers", {"webhook_header": {"name": "X-A", "value": "1"}}),
]


def test_members_may_read_outsiders_may_not(env: Any) -> None:
    for suffix in READS:
        path = WH.format(env.ns) + suffix.format(hook=env.hook["id"])
        assert env.bob.get(path).status_code == 200, path
        assert env.admin.get(path).status_code == 200, path
        body = _error(env.carol.get(path), 403)
        assert body["errors"][0]["detail"]["rule"] == "namespace_members_only"


def test_viewers_and_outsiders_may_not_change(env: Any) -> None:
    for method, suffix, body in WRITES:
        path = WH.format(env.ns) + suffix.format(hook=env.hook["id"])
        kw = {"json": body} if body is not None else {}
        for user in (env.bob, env.carol):
            _error(getattr(user, method)(path, **kw), 403)
    assert env.alice.get(f"{WH.format(env.ns)}/{env.hook['id']}").get_json()[
        "name"] == "ci"


def test_a_private_namespace_is_404_to_outsiders(env: Any) -> None:
    env.alice.put(f"/api/v1/namespaces/{env.ns}",
                  json={"namespace": {"visibility": "private"}})
    _error(env.carol.get(WH.format(env.ns)), 404)
    _error(env.carol.get(WH.format(999999)), 404)


def test_unknown_ids_are_404(env: Any) -> None:
    base = WH.format(env.ns)
    _error(env.alice.get(WH.format(999999)), 404)
    _error(env.alice.get(f"{base}/999999"), 404)
    _error(env.alice.get(f"{base}/{env.hook['id']}/deliveries/999999"), 404)
    _error(env.alice.delete(f"{base}/{env.hook['id']}/headers/999999"), 404)
    _error(env.alice.put(f"{base}/{env.hook['id']}/deliveries/999999"), 404)


def test_a_webhook_of_another_namespace_is_404(env: Any) -> None:
    env.world.team(env.alice, "ops")
    other = env.world.namespace(env.alice, "ops", "ops")
    _error(env.alice.get(f"{WH.format(other)}/{env.hook['id']}"), 404)
    _error(env.alice.delete(f"{WH.format(other)}/{env.hook['id']}"), 404)


MALFORMED = [
    ({"webhook": {"url": "http://127.0.0.1:9/"}}, "name"),
    ({"webhook": {"name": "x"}}, "url"),
    ({"webhook": {"name": "x", "url": "http://127.0.0.2:9/"}}, "url"),
    ({"webhook": {"name": "x", "url": "http://10.0.0.1/"}}, "url"),
    ({"webhook": {"name": "x", "url": "http://169.254.169.254/"}}, "url"),
    ({"webhook": {"name": "x", "url": "ftp://127.0.0.1/"}}, "url"),
    ({"webhook": {"name": "x", "url": "http://127.0.0.1:9/",
                  "request_method": "PATCH"}}, "request_method"),
    ({"webhook": {"name": "x", "url": "http://127.0.0.1:9/",
                  "content_type": "text/xml"}}, "content_type"),
    ({"webhook": {"name": "x", "url": "http://127.0.0.1:9/",
                  "events": ["push", "tag"]}}, "events"),
    ({"webhook": {"name": "x", "url": "http://127.0.0.1:9/", "events": []}},
     "events"),
    ({"webhook": {"name": ["x"], "url": "http://127.0.0.1:9/"}}, "name"),
    ({"webhook": {"name": "x", "url": "http://127.0.0.1:9/", "enabled": "maybe"}},
     "enabled"),
    ({"webhook": "nope"}, "webhook"),
]


def test_malformed_bodies_are_422(env: Any) -> None:
    for body, field in MALFORMED:
        resp = env.alice.post(WH.format(env.ns), json=body)
        assert _error(resp, 422)["errors"][0]["detail"]["field"] == field, body
    assert [h["name"] for h in env.alice.get(WH.format(env.ns)).get_json()] == ["ci"]


def test_localhost_is_refused_unless_allow_listed(make_world: Any) -> None:
    world = make_world()
    alice = world.user("alice")
    world.team(alice, "dev")
    ns = world.namespace(alice, "dev", "dev")
    for url in ("http://localhost:9/", "http://127.0.0.1:9/", "http://[::1]:9/"):
        resp = alice.post(WH.format(ns), json={"webhook": {"name": "x", "url": url}})
        assert "refused" in _error(resp, 422)["message"]


def test_update_validates_the_url_too(env: Any) -> None:
    base = f"{WH.format(env.ns)}/{env.hook['id']}"
    resp = env.alice.put(base, json={"webhook": {"url": "http://192.168.0.1/"}})
    _error(resp, 422)
    assert env.alice.get(base).get_json()["url"] == env.hook["url"]


def test_update_toggle_and_password_clearing(env: Any) -> None:
    base = f"{WH.format(env.ns)}/{env.hook['id']}"
    resp = env.alice.put(base, json={"webhook": {
        "name": "renamed", "request_method": "GET", "events": "push,pull",
        "content_type": "application/x-www-form-urlencoded", "password": ""}})
    body = resp.get_json()
    assert resp.status_code == 200, body
    assert (body["name"], body["request_method"], body["events"]) == (
        "renamed", "GET", ["push", "pull"])
    assert body["has_password"] is False
    assert env.alice.put(f"{base}/toggle_enabled").get_json()["enabled"] is False
    assert env.alice.put(f"{base}/toggle_enabled").get_json()["enabled"] is True


def test_headers_add_list_remove(env: Any) -> None:
    base = f"{WH.format(env.ns)}/{env.hook['id']}/headers"
    resp = env.alice.post(base, json={"webhook_header": {"name": "X-Token",
                                                         "value": "abc"}})
    assert resp.status_code == 201, resp.get_json()
    header = resp.get_json()
    assert header["name"] == "X-Token" and header["webhook_id"] == env.hook["id"]
    _error(env.alice.post(base, json={"webhook_header": {"name": "x-token",
                                                         "value": "dup"}}), 409)
    for name, value in (("X-Berth-Signature", "forged"), ("Host", "evil"),
                        ("Bad Name", "v"), ("X-Ok", "a\r\nInjected: 1")):
        resp = env.alice.post(base, json={"webhook_header": {"name": name,
                                                             "value": value}})
        _error(resp, 422)
    assert [h["name"] for h in env.bob.get(base).get_json()] == ["X-Token"]
    assert env.alice.delete(f"{base}/{header['id']}").status_code == 204
    assert env.alice.get(base).get_json() == []


def test_owner_needs_the_permission_knobs(make_world: Any, receiver: Any) -> None:
    world = make_world(webhook_allowed_networks=LOCAL, create_webhook=False,
                       manage_webhook=False)
    admin, alice = world.user("root", admin=True), world.user("alice")
    world.team(alice, "dev")
    ns = world.namespace(alice, "dev", "dev")
    body = {"webhook": {"name": "x", "url": receiver.url()}}
    resp = alice.post(WH.format(ns), json=body)
    assert _error(resp, 403)["errors"][0]["detail"]["rule"] == "webhooks_admins_only"
    created = admin.post(WH.format(ns), json=body)
    assert created.status_code == 201
    hook = created.get_json()
    assert alice.get(f"{WH.format(ns)}/{hook['id']}").get_json()["updatable"] is False
    _error(alice.delete(f"{WH.format(ns)}/{hook['id']}"), 403)


def test_personal_namespace_owner_manages_its_webhooks(make_world: Any,
                                                       receiver: Any) -> None:
    world = make_world(webhook_allowed_networks=LOCAL)
    dave = world.user("dave")
    mine = next(n for n in dave.get("/api/v1/namespaces").get_json()
            if n["name"] == "dave")
    resp = dave.post(WH.format(mine["id"]),
                     json={"webhook": {"name": "x", "url": receiver.url()}})
    assert resp.status_code == 201, resp.get_json()


def test_list_is_paginated(env: Any) -> None:
    resp = env.alice.get(WH.format(env.ns) + "?per_page=1")
    assert resp.headers["X-Total"] == "1"
    assert [h["name"] for h in resp.get_json()] == ["ci"]
    _error(env.alice.get(WH.format(env.ns) + "?sort_attr=url"), 422)


def test_form_bodies_are_accepted(env: Any) -> None:
    resp = env.alice.post(WH.format(env.ns), data={
        "name": "form", "url": env.receiver.url(), "events": "pull"})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["events"] == ["pull"]


def test_deleting_the_namespace_removes_its_webhooks(env: Any) -> None:
    from berth.catalog.models import Webhook
    from sqlalchemy import select

    assert env.alice.delete(f"/api/v1/namespaces/{env.ns}").status_code == 204
    with env.world.session() as s:
        assert s.scalars(select(Webhook)).all() == []
