"""POST /v2/webhooks/events: secret, validation, filtering, dedup, state."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from berth.syncer.models import ObservedRepository, ObservedTag, SeenNotification
from berth.syncer.services.notifications import derive_event_id
from sqlalchemy import func, select
from syncer_testing import NOTIFY_SECRET, outbox_events

CT = "application/vnd.docker.distribution.events.v2+json"
AUTH = {"Authorization": f"Bearer {NOTIFY_SECRET}"}
MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DIGEST = "sha256:" + "a" * 64


def event(action: str = "push", *, id: str = "ev-1", tag: str | None = "1.0",
          media_type: str = MANIFEST, repository: str = "team/app",
          digest: str = DIGEST, actor: str = "alice") -> dict[str, Any]:
    target: dict[str, Any] = {"mediaType": media_type, "size": 527, "digest": digest,
                              "length": 527, "repository": repository,
                              "url": f"http://r/v2/{repository}/manifests/{digest}"}
    if tag:
        target["tag"] = tag
    return {"id": id, "timestamp": "2026-01-02T03:04:05.123456789Z", "action": action,
            "target": target,
            "request": {"id": "r1", "addr": "10.0.0.7:5555", "host": "r",
                        "method": "PUT", "useragent": "docker/24"},
            "actor": {"name": actor},
            "source": {"addr": "r:5000", "instanceID": "x"}}


def post(client: Any, body: Any, headers: dict[str, str] | None = None) -> Any:
    hdrs = AUTH if headers is None else headers
    if isinstance(body, (dict, list)):
        import json
        body = json.dumps(body)
    return client.post("/v2/webhooks/events", data=body, content_type=CT, headers=hdrs)


def count(runtime: Any, model: Any) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def assert_error_shape(resp: Any, status: int) -> None:
    assert resp.status_code == status
    body = resp.get_json()
    assert isinstance(body["message"], str) and body["errors"][0]["code"]


def test_push_becomes_manifest_pushed_event_and_observed_tag(client, runtime):
    resp = post(client, {"events": [event()]})
    assert resp.status_code == 200
    assert resp.get_json() == {"stored": 1, "duplicate": 0, "ignored": 0}
    [env] = outbox_events(runtime)
    assert env["type"] == "registry.manifest.pushed"
    assert env["id"] == derive_event_id("registry.test:5000", "ev-1")
    assert env["producer"] == "syncer"
    assert env["occurred_at"].startswith("2026-01-02T03:04:05.123456")
    assert env["actor"]["name"] == "alice"
    assert env["data"] == {
        "registry": "registry.test:5000", "repository": "team/app", "digest": DIGEST,
        "tag": "1.0", "media_type": MANIFEST, "size": 527, "actor": "alice",
        "source_addr": "10.0.0.7:5555", "origin": "notification"}
    with runtime.sessions() as s:
        tag = s.scalars(select(ObservedTag)).one()
        assert (tag.tag, tag.digest, tag.repository.name) == ("1.0", DIGEST, "team/app")


def test_duplicate_event_ids_produce_one_event(client, runtime):
    body = {"events": [event(), event()]}
    assert post(client, body).get_json()["duplicate"] == 1
    assert post(client, body).get_json() == {"stored": 0, "duplicate": 2, "ignored": 0}
    assert len(outbox_events(runtime)) == 1
    assert count(runtime, SeenNotification) == 1


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {NOTIFY_SECRET}"},
    {"Authorization": "Bearer "}, {"Authorization": f"Bearer {NOTIFY_SECRET}x"},
], ids=["none", "wrong", "basic-scheme", "empty", "longer"])
def test_forged_notification_is_refused_and_changes_nothing(client, runtime, headers):
    resp = post(client, {"events": [event()]}, headers=headers)
    assert_error_shape(resp, 401)
    assert outbox_events(runtime) == []
    assert count(runtime, SeenNotification) == 0
    assert count(runtime, ObservedRepository) == 0


@pytest.mark.parametrize("body", [
    "not json", "[]", "{}", '{"events": {}}', '{"events": [1]}',
    '{"events": [{"action": "push", "target": {"repository": "a"}}]}',
    '{"events": [{"id": "x", "action": "push", "target": "a"}]}',
    '{"events": [{"id": "x", "action": "push", "target": {"repository": 5}}]}',
    ('{"events": [{"id": "x", "action": "push", "target": {"repository": "a", '
    '"size": -1}}]}'),
    ('{"events": [{"id": "x", "action": "push", "timestamp": "yesterday", '
    '"target": {"repository": "a"}}]}'),
], ids=["text", "list", "no-events", "events-object", "event-number", "no-id",
        "target-string", "repository-number", "negative-size", "bad-timestamp"])
def test_malformed_body_is_400_and_nothing_is_stored(client, runtime, body):
    resp = post(client, body)
    assert_error_shape(resp, 400)
    assert resp.get_json()["errors"][0]["code"] == "MALFORMED_NOTIFICATION"
    assert outbox_events(runtime) == []


def test_one_bad_event_rejects_the_whole_envelope(client, runtime):
    bad = event(id="ev-2")
    bad["target"]["repository"] = ["x"]
    assert post(client, {"events": [event(), bad]}).status_code == 400
    assert outbox_events(runtime) == []
    assert count(runtime, SeenNotification) == 0


def test_blob_events_and_unknown_actions_are_ignored(client, runtime):
    blob = event(id="b", media_type="application/octet-stream", tag=None)
    layer = event(id="l", media_type="application/vnd.oci.image.layer.v1.tar+gzip")
    mount = event(action="mount", id="m")
    assert post(client, {"events": [blob, layer, mount]}).get_json()["ignored"] == 3
    assert outbox_events(runtime) == []


def test_pull_by_someone_is_kept_but_the_syncers_own_reads_are_not(client, runtime):
    mine = event("pull", id="p1", actor="berth")
    anonymous_head = event("pull", id="p2", actor="")
    anonymous_head["request"]["useragent"] = "berth-syncer"
    theirs = event("pull", id="p3", actor="bob")
    resp = post(client, {"events": [mine, anonymous_head, theirs]})
    assert resp.get_json() == {"stored": 1, "duplicate": 0, "ignored": 2}
    [env] = outbox_events(runtime)
    assert env["type"] == "registry.manifest.pulled"
    assert env["data"]["actor"] == "bob"


def test_delete_removes_every_observed_tag_of_the_digest(client, runtime):
    post(client, {"events": [event(id="a", tag="1"), event(id="b", tag="2")]})
    delete = event("delete", id="d", tag=None)
    del delete["target"]["mediaType"]
    assert post(client, {"events": [delete]}).get_json()["stored"] == 1
    assert outbox_events(runtime)[-1]["type"] == "registry.manifest.deleted"
    assert count(runtime, ObservedTag) == 0


def test_tag_moved_by_a_push_updates_the_observed_digest(client, runtime):
    other = "sha256:" + "b" * 64
    post(client, {"events": [event(id="a")]})
    post(client, {"events": [event(id="b", digest=other)]})
    with runtime.sessions() as s:
        assert s.scalars(select(ObservedTag.digest)).all() == [other]


def test_body_over_the_limit_is_refused(client, runtime):
    many = {"events": [copy.deepcopy(event(id=f"e{i}")) for i in range(2000)]}
    resp = post(client, many)
    assert resp.status_code in (400, 413)
    assert_error_shape(resp, resp.status_code)
    assert outbox_events(runtime) == []


def test_each_registry_is_recognised_by_its_own_secret(make_app, config, runtime):
    from berth.syncer.registries import RegistryDirectory
    from berth.syncer.wiring import default_registry

    def catalog() -> list[dict[str, Any]]:
        return [{"name": "second", "service": "second:5000", "url": "http://127.0.0.1:9",
                 "hostname": "second:5000", "notification_secret": "second-secret"}]

    app = make_app(directory=RegistryDirectory(default_registry(config), catalog))
    client = app.test_client()
    assert post(client, {"events": [event(id="x")]},
                {"Authorization": "Bearer second-secret"}).status_code == 200
    assert post(client, {"events": [event(id="x")]}).status_code == 200
    registries = sorted(e["data"]["registry"] for e in outbox_events(runtime))
    # The same registry event id from two registries is two different events.
    assert registries == ["registry.test:5000", "second:5000"]


def test_the_default_registry_keeps_working_when_the_catalog_is_down(make_app, config,
                                                                    runtime):
    from berth.syncer.registries import RegistryDirectory
    from berth.syncer.wiring import default_registry

    def catalog() -> list[dict[str, Any]]:
        raise ConnectionError("catalog down")

    app = make_app(directory=RegistryDirectory(default_registry(config), catalog))
    assert post(app.test_client(), {"events": [event()]}).status_code == 200
    assert len(outbox_events(runtime)) == 1
