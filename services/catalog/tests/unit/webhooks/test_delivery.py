"""From a registry event to signed requests: scheduling, attempts, backoff,
the delivery log and re-sending."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from berth.catalog.models import PROCESSED, WebhookDelivery, utcnow
from berth.catalog.webhooks.crypto import signature
from berth.catalog.webhooks.dispatcher import RetryPolicy
from berth.catalog.webhooks.schedule import CONSUMER, make_handler
from berth.common.consumer import ConsumerWorker
from berth.common.events.base import Envelope
from berth.common.events.registry import ManifestDeleted, ManifestPulled, ManifestPushed
from sqlalchemy import select

from .conftest import LOCAL, dispatcher_for

WH = "/api/v1/namespaces/{}/webhooks"
SERVICE = "registry.test:5000"
DIGEST = "sha256:" + "b" * 64


@pytest.fixture
def env(make_world: Any, receiver: Any) -> Any:
    world = make_world(webhook_allowed_networks=LOCAL)
    alice = world.user("alice")
    world.team(alice, "dev")
    ns = world.namespace(alice, "dev", "dev")

    class Env:
        pass

    e = Env()
    e.world, e.alice, e.ns, e.receiver = world, alice, ns, receiver

    def hook(**fields: Any) -> dict[str, Any]:
        body = {"name": "ci", "url": receiver.url(), **fields}
        resp = alice.post(WH.format(ns), json={"webhook": body})
        assert resp.status_code == 201, resp.get_json()
        out: dict[str, Any] = resp.get_json()
        return out

    def publish(event: Any, event_id: str | None = None) -> str:
        state = world.app.extensions["berth.catalog"]
        env = Envelope.wrap(event, producer="syncer", event_id=event_id)
        worker = ConsumerWorker(bus=world.bus, name=CONSUMER, handler=make_handler(),
                                factory=state.runtime.sessions,
                                processed=PROCESSED)
        return worker.handle_body(env.to_json())

    e.hook, e.publish = hook, publish
    e.dispatcher = dispatcher_for(world)
    return e


def _push(repo: str = "dev/app", tag: str = "1.0") -> ManifestPushed:
    return ManifestPushed(registry=SERVICE, repository=repo, digest=DIGEST, tag=tag,
                          size=10, actor="alice", source_addr="127.0.0.1")


def _deliveries(env: Any, hook_id: int) -> list[dict[str, Any]]:
    resp = env.alice.get(f"{WH.format(env.ns)}/{hook_id}/deliveries")
    assert resp.status_code == 200, resp.get_json()
    out: list[dict[str, Any]] = resp.get_json()
    return out


def test_a_push_is_delivered_signed_with_context(env: Any) -> None:
    hook = env.hook(username="ci", password="pw")
    env.alice.post(f"{WH.format(env.ns)}/{hook['id']}/headers",
                   json={"webhook_header": {"name": "X-Team", "value": "dev"}})
    env.publish(_push())
    assert env.dispatcher.run_once() == ["succeeded"]
    [req] = env.receiver.requests
    assert req.method == "POST" and req.path == "/hook"
    assert req.headers["X-Berth-Signature"] == signature(hook["secret"], req.body)
    assert req.headers["Content-Type"] == "application/json"
    assert req.headers["X-Berth-Event"] == "push"
    assert req.headers["X-Team"] == "dev"
    assert req.headers["Authorization"] == "Basic " + base64.b64encode(
        b"ci:pw").decode()
    body = json.loads(req.body)
    assert body["action"] == "push" and body["namespace"] == "dev"
    assert (body["repository"], body["tag"], body["digest"]) == ("dev/app", "1.0",
                                                                 DIGEST)
    assert body["actor"]["name"] == "alice"
    assert body["event"]["type"] == "registry.manifest.pushed"
    [row] = _deliveries(env, hook["id"])
    assert row["state"] == "succeeded" and row["status"] == 200
    assert row["uuid"] == req.headers["X-Berth-Delivery"]
    assert "[redacted]" in row["request_header"] and "pw" not in row["request_header"]


def test_a_redelivered_event_is_delivered_once(env: Any) -> None:
    hook = env.hook()
    env.publish(_push(), event_id="evt-1")
    with env.world.session() as s:
        from berth.catalog.webhooks.schedule import schedule

        again = Envelope.wrap(_push(), producer="syncer", event_id="evt-1")
        assert schedule(s, again) == []
    assert len(_deliveries(env, hook["id"])) == 1


def test_failures_back_off_then_succeed_and_every_attempt_is_logged(env: Any) -> None:
    hook = env.hook()
    env.receiver.statuses = [500, 503]
    env.publish(_push())
    assert env.dispatcher.run_once() == ["pending"]
    assert env.dispatcher.run_once() == []  # not due yet: backoff
    # MariaDB keeps whole seconds: the margins are wider than one.
    later = utcnow() + timedelta(seconds=3)
    assert env.dispatcher.run_once(later) == ["pending"]
    assert env.dispatcher.run_once(later) == []  # second delay is 4 s
    assert env.dispatcher.run_once(utcnow() + timedelta(seconds=6)) == ["succeeded"]
    [row] = _deliveries(env, hook["id"])
    shown = env.alice.get(f"{WH.format(env.ns)}/{hook['id']}/deliveries/{row['id']}")
    log = shown.get_json()["attempt_log"]
    assert [a["status"] for a in log] == [500, 503, 200]
    assert [a["number"] for a in log] == [1, 2, 3]
    assert log[0]["response_body"] == "answer 500"
    assert "X-Receiver" in log[0]["response_header"]
    assert shown.get_json()["attempts"] == 3
    assert len(env.receiver.requests) == 3


def test_gives_up_after_the_limit(env: Any) -> None:
    hook = env.hook()
    env.receiver.statuses = [500] * 5
    env.publish(_push())
    far = utcnow() + timedelta(hours=1)
    states = [s for _ in range(5) for s in env.dispatcher.run_once(far)]
    assert states == ["pending", "pending", "failed"]
    [row] = _deliveries(env, hook["id"])
    assert row["state"] == "failed" and row["next_attempt_at"] is None


def test_a_failing_endpoint_does_not_hold_back_another(env: Any) -> None:
    bad = env.hook(name="bad", url="http://127.0.0.1:9/unreachable")
    good = env.hook(name="good")
    env.publish(_push())
    assert sorted(env.dispatcher.run_once()) == ["pending", "succeeded"]
    assert _deliveries(env, good["id"])[0]["state"] == "succeeded"
    failed = _deliveries(env, bad["id"])[0]
    assert failed["state"] == "pending" and failed["error"]


def test_connect_time_refusal_is_recorded(env: Any) -> None:
    hook = env.hook()
    env.publish(_push())
    strict = dispatcher_for(env.world, allowed=())
    assert strict.run_once() == ["pending"]
    assert env.receiver.requests == []
    [row] = _deliveries(env, hook["id"])
    assert row["error"].startswith("refused") and row["status"] is None


def test_events_follow_the_subscription(env: Any) -> None:
    default = env.hook(name="default")
    pulls = env.hook(name="pulls", events=["pull"])
    disabled = env.hook(name="off", enabled=False)
    env.publish(_push())
    env.publish(ManifestPulled(registry=SERVICE, repository="dev/app", digest=DIGEST))
    env.publish(ManifestDeleted(registry=SERVICE, repository="dev/app", digest=DIGEST))
    env.publish(_push(repo="elsewhere/app"))
    assert [d["event"] for d in reversed(_deliveries(env, default["id"]))] == [
        "registry.manifest.pushed", "registry.manifest.deleted"]
    assert [d["event"] for d in _deliveries(env, pulls["id"])] == [
        "registry.manifest.pulled"]
    assert _deliveries(env, disabled["id"]) == []


def test_a_webhook_disabled_after_scheduling_is_skipped(env: Any) -> None:
    hook = env.hook()
    env.publish(_push())
    env.alice.put(f"{WH.format(env.ns)}/{hook['id']}/toggle_enabled")
    assert env.dispatcher.run_once() == ["skipped"]
    assert env.receiver.requests == []


def test_form_and_get_webhooks(env: Any) -> None:
    env.hook(request_method="GET", content_type="application/x-www-form-urlencoded")
    env.publish(_push())
    assert env.dispatcher.run_once() == ["succeeded"]
    [req] = env.receiver.requests
    assert req.method == "GET"
    assert b"namespace=dev" in req.body and b"action=push" in req.body


def test_resend_delivers_the_same_body_again(env: Any) -> None:
    hook = env.hook()
    env.publish(_push())
    env.dispatcher.run_once()
    [first] = _deliveries(env, hook["id"])
    base = f"{WH.format(env.ns)}/{hook['id']}/deliveries/{first['id']}"
    resp = env.alice.put(base)
    assert resp.status_code == 202, resp.get_json()
    copy = resp.get_json()
    assert copy["resent_from_id"] == first["id"] and copy["state"] == "pending"
    assert env.alice.post(f"{base}/resend").status_code == 202
    assert env.dispatcher.run_once() == ["succeeded", "succeeded"]
    bodies = {r.body for r in env.receiver.requests}
    assert len(env.receiver.requests) == 3 and len(bodies) == 1


def test_deleting_a_webhook_removes_its_log(env: Any) -> None:
    hook = env.hook()
    env.publish(_push())
    env.dispatcher.run_once()
    env.alice.delete(f"{WH.format(env.ns)}/{hook['id']}")
    with env.world.session() as s:
        assert s.scalars(select(WebhookDelivery)).all() == []


def test_claims_are_exclusive(env: Any) -> None:
    env.hook()
    env.publish(_push())
    other = dispatcher_for(env.world)
    assert len(env.dispatcher.claim(10)) == 1
    assert other.claim(10) == []


@pytest.mark.parametrize("attempts,delay", [(1, 10.0), (2, 20.0), (3, 40.0),
                                            (12, 3600.0)])
def test_backoff_doubles_up_to_the_cap(attempts: int, delay: float) -> None:
    assert RetryPolicy(base=10.0, cap=3600.0).delay(attempts) == delay



def test_a_secret_the_key_cannot_decrypt_is_an_error_not_a_crash(env: Any) -> None:
    from berth.catalog.models import Webhook

    hook = env.hook()
    with env.world.session() as s:
        s.get(Webhook, hook["id"]).secret_encrypted = "not-a-fernet-token"
        s.commit()
    env.publish(_push())
    assert env.dispatcher.run_once() == ["pending"]
    assert env.receiver.requests == []
    [row] = _deliveries(env, hook["id"])
    assert "decrypt" in row["error"]
