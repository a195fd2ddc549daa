"""Real registry -> notification -> outbox, and deletes through the syncer."""

from __future__ import annotations

import uuid

import requests
from berth.syncer.models import ObservedTag
from sqlalchemy import select
from syncer_testing import INTERNAL, NOTIFY_SECRET, outbox_events, wait_for


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def test_push_arrives_through_the_registry_notification(make_app, registry, runtime,
                                                       relay):
    client = make_app(registry.url).test_client()
    repo = unique("team/app")
    digest = registry.push(repo, "1.0")
    pushed = wait_for(lambda: [e for e in outbox_events(runtime, "registry.manifest.pushed")
                               if e["data"]["repository"] == repo])
    assert len(pushed) == 1
    data = pushed[0]["data"]
    assert (data["tag"], data["digest"], data["origin"]) == ("1.0", digest, "notification")
    assert data["registry"] == "registry.test:5000"
    assert data["media_type"] == "application/vnd.oci.image.manifest.v1+json"
    assert data["source_addr"].startswith("127.0.0.1")
    with runtime.sessions() as s:
        assert s.scalars(select(ObservedTag.digest).where(ObservedTag.tag == "1.0")).all() \
            == [digest]

    # The registry redelivers (e.g. after a timeout): the same envelope again.
    [sent] = [b for b in relay.bodies if repo.encode() in b and b'"push"' in b]
    resp = client.post("/v2/webhooks/events", data=sent, headers={
        "Authorization": f"Bearer {NOTIFY_SECRET}",
        "Content-Type": "application/vnd.docker.distribution.events.v2+json"})
    assert resp.status_code == 200 and resp.get_json()["stored"] == 0
    assert len([e for e in outbox_events(runtime, "registry.manifest.pushed")
                if e["data"]["repository"] == repo]) == 1


def test_health_reports_the_reachable_registry(make_app, registry):
    body = make_app(registry.url).test_client().get("/api/v1/health").get_json()
    assert body["registry:registry.test:5000"]["success"] is True
    assert body["database"]["success"] is True


def test_delete_through_the_internal_endpoint_removes_the_manifest(make_app, registry,
                                                                  runtime):
    client = make_app(registry.url).test_client()
    repo = unique("team/del")
    digest = registry.push(repo, "v1")
    body = {"registry": "registry.test:5000", "repository": repo, "digest": digest}
    resp = client.post("/internal/v1/manifests/delete", json=body, headers=INTERNAL)
    assert resp.status_code == 202
    head = requests.head(f"{registry.url}/v2/{repo}/manifests/{digest}", timeout=5,
                         headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    assert head.status_code == 404
    deleted = wait_for(lambda: [e for e in outbox_events(runtime, "registry.manifest.deleted")
                                if e["data"]["repository"] == repo])
    assert deleted[0]["data"]["digest"] == digest
    again = client.post("/internal/v1/manifests/delete", json=body, headers=INTERNAL)
    assert again.status_code == 404
    assert again.get_json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
