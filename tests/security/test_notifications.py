"""Forged registry notifications to the syncer (the real syncer app in this
process, on SQLite, two registries): no secret, a wrong secret, another
registry's secret, replayed event ids, oversized and malformed bodies — nothing
is stored or published but what the secret's own registry may say, and every
refusal has the one error shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.security.conftest import INTERNAL, ISSUER, assert_error_shape

SECRET_A, SECRET_B = "notify-secret-of-a-0123456789", "notify-secret-of-b-9876543210"
SERVICE_A, SERVICE_B = "registry-a.test:5000", "registry-b.test:5000"
CT = "application/vnd.docker.distribution.events.v2+json"
MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DIGEST = "sha256:" + "b" * 64


class Syncer:
    """The syncer app and a way to count what it stored and published."""

    def __init__(self, home: Path) -> None:
        from berth.common.auth import Authenticator, JwksKeys
        from berth.common.bus import Bus
        from berth.common.db import make_engine, make_sessionmaker
        from berth.common.migrations import upgrade
        from berth.common.outbox import Outbox
        from berth.common.runtime import Runtime
        from berth.common.signing import Signer, generate_key
        from berth.syncer.__main__ import MIGRATIONS
        from berth.syncer.app import create_app
        from berth.syncer.config import load_config
        from berth.syncer.models import OUTBOX
        from berth.syncer.registries import RegistryDirectory
        from berth.syncer.wiring import default_registry

        home.mkdir(parents=True, exist_ok=True)
        config = load_config(
            {"BERTH_HOME": str(home), "BERTH_LOG_LEVEL": "WARNING"},
            database_url=f"sqlite:///{home / 'syncer.sqlite'}", amqp_url="",
            internal_secret=INTERNAL, token_issuer=ISSUER,
            registry_notification_secret=SECRET_A, registry_service=SERVICE_A,
            registry_url="http://127.0.0.1:9", catalog_url="http://127.0.0.1:9")
        engine = make_engine(config.database_url)
        upgrade(MIGRATIONS, engine, "syncer")
        self.bus = Bus(None, config.home, "syncer")
        # The outbox keeps every event in its table: exactly what would be published.
        self.runtime = Runtime(engine=engine, sessions=make_sessionmaker(engine),
                               bus=self.bus, outbox=Outbox(OUTBOX, None, "syncer"))
        other = {"name": "b", "service": SERVICE_B, "url": "http://127.0.0.1:9",
                 "hostname": SERVICE_B, "notification_secret": SECRET_B}
        directory = RegistryDirectory(default_registry(config), lambda: [other])
        auth = Authenticator(keys=JwksKeys(static=Signer([generate_key("ES256")])
                                           .public_keys()),
                             credentials=None, internal_secret=INTERNAL, issuer=ISSUER)
        self.app = create_app(config, runtime=self.runtime, authenticator=auth,
                              directory=directory)
        self.client = self.app.test_client()

    def post(self, body: Any, secret: str | None = SECRET_A,
             headers: dict[str, str] | None = None, **kw: Any) -> Any:
        hdrs = {"Authorization": f"Bearer {secret}"} if secret is not None else {}
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return self.client.post("/v2/webhooks/events", data=data, content_type=CT,
                                headers={**hdrs, **(headers or {})}, **kw)

    def published(self) -> list[dict[str, Any]]:
        from berth.syncer.models import OUTBOX

        with self.runtime.sessions() as s:
            return [json.loads(r.body) for r in
                    s.execute(select(OUTBOX.c.body).order_by(OUTBOX.c.id)).all()]

    def stored(self) -> int:
        from berth.syncer.models import ObservedTag, SeenNotification

        with self.runtime.sessions() as s:
            return sum(s.scalar(select(func.count()).select_from(m)) or 0
                       for m in (ObservedTag, SeenNotification))

    def close(self) -> None:
        self.bus.close()
        self.runtime.engine.dispose()


@pytest.fixture
def syncer(tmp_path: Path) -> Iterator[Syncer]:
    s = Syncer(tmp_path / "home")
    yield s
    s.close()


def event(id: str = "ev-1", repository: str = "team/app", tag: str = "1.0",
          host: str = SERVICE_A) -> dict[str, Any]:
    return {"id": id, "timestamp": "2026-01-02T03:04:05Z", "action": "push",
            "target": {"mediaType": MANIFEST, "size": 527, "digest": DIGEST,
                       "length": 527, "repository": repository, "tag": tag,
                       "url": f"http://{host}/v2/{repository}/manifests/{DIGEST}"},
            "request": {"id": "r1", "addr": "10.0.0.7:5555", "host": host,
                        "method": "PUT", "useragent": "docker/24"},
            "actor": {"name": "alice"}, "source": {"addr": host, "instanceID": "x"}}


FORGED_AUTH = [
    None,                                          # no Authorization at all
    {"Authorization": "Bearer"},                   # empty bearer
    {"Authorization": "Bearer "},
    {"Authorization": "Bearer wrong-secret"},
    {"Authorization": f"Bearer {SECRET_A[:-1]}"},  # a prefix of the real one
    {"Authorization": f"Bearer {SECRET_A}x"},      # the real one, extended
    {"Authorization": f"Bearer {SECRET_A.upper()}"},
    {"Authorization": f"Basic {SECRET_A}"},        # the right value, wrong scheme
    {"Authorization": SECRET_A},
    {"X-Berth-Internal": INTERNAL},                # the internal secret is not it
    {"Authorization": f"Bearer {INTERNAL}"},
]


@pytest.mark.parametrize("headers", FORGED_AUTH)
def test_a_forged_notification_stores_nothing(syncer: Syncer,
                                              headers: dict[str, str] | None) -> None:
    resp = syncer.post({"events": [event()]}, secret=None, headers=headers)
    assert_error_shape(resp, 401)
    assert syncer.published() == [] and syncer.stored() == 0


def test_a_secret_speaks_only_for_its_own_registry(syncer: Syncer) -> None:
    # B's valid secret with events naming A's host: recorded as B's, never A's.
    resp = syncer.post({"events": [event(host=SERVICE_A)]}, secret=SECRET_B)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    [env] = syncer.published()
    assert env["data"]["registry"] == SERVICE_B
    # A's secret for the same event id is A's own, distinct record.
    resp = syncer.post({"events": [event(host=SERVICE_B)]}, secret=SECRET_A)
    assert resp.get_json()["stored"] == 1
    assert [e["data"]["registry"] for e in syncer.published()] == [SERVICE_B, SERVICE_A]


def test_replayed_event_ids_make_one_record(syncer: Syncer) -> None:
    body = {"events": [event("ev-replay")]}
    assert syncer.post(body).get_json()["stored"] == 1
    for _ in range(3):
        resp = syncer.post(body)
        assert resp.get_json() == {"stored": 0, "duplicate": 1, "ignored": 0}
    # a replay that changes the content under the same id is still the same event
    changed = {"events": [event("ev-replay", tag="evil", repository="team/other")]}
    assert syncer.post(changed).get_json()["stored"] == 0
    assert syncer.post({"events": [event("ev-replay")] * 5}).get_json()["stored"] == 0
    published = syncer.published()
    assert len(published) == 1 and published[0]["data"]["tag"] == "1.0"


@pytest.mark.parametrize("size", [1024 * 1024 + 1, 4 * 1024 * 1024])
def test_an_oversized_body_is_refused(syncer: Syncer, size: int) -> None:
    padding = "x" * size
    body = json.dumps({"events": [event()], "padding": padding})
    assert_error_shape(syncer.post(body), 413)
    assert syncer.published() == [] and syncer.stored() == 0


def test_an_oversized_body_without_a_secret_is_refused_too(syncer: Syncer) -> None:
    resp = syncer.post("x" * (2 * 1024 * 1024), secret=None)
    assert resp.status_code in (401, 413)
    assert_error_shape(resp, resp.status_code)


@pytest.mark.parametrize("body", [
    "", "not json", "[]", "null", "{}", '{"events": "x"}', '{"events": [1]}',
    '{"events": [{"action": "push"}]}', "{" * 5000 + "}" * 5000,
    json.dumps({"events": [{**event(), "target": {**event()["target"],
                                                  "digest": "sha256:../../x"}}]}),
    json.dumps({"events": [{**event(), "target": {**event()["target"],
                                                  "repository": "../etc/passwd"}}]}),
    json.dumps({"events": [{**event(), "target": {**event()["target"],
                                                  "repository": "A/UPPER"}}]}),
    json.dumps({"events": [{**event(), "id": ""}]}),
    b"\xff\xfe{\x00",
])
def test_a_malformed_notification_is_refused(syncer: Syncer, body: Any) -> None:
    resp = syncer.post(body)
    assert_error_shape(resp, 400)
    assert syncer.published() == [] and syncer.stored() == 0


@pytest.mark.parametrize(("key", "value"), [
    ("repository", "team/app\n"), ("repository", "team//app"), ("repository", "/team"),
    ("repository", "team/app/"), ("repository", "x" * 256), ("repository", "te am"),
    ("digest", "sha256:" + "b" * 64 + "\n"), ("digest", "sha256"),
    ("digest", "sha256:<script>"), ("tag", "../latest"), ("tag", "-x"),
    ("tag", "v1\u00e9"), ("tag", "a" * 129),
])
def test_names_no_registry_could_hold_are_refused(syncer: Syncer, key: str,
                                                  value: str) -> None:
    # Even with the right secret: what the registry could never send is dropped
    # whole, so a leaked secret cannot plant odd names in the catalog or audit.
    forged = event()
    forged["target"][key] = value
    assert_error_shape(syncer.post({"events": [event("ok"), forged]}), 400)
    assert syncer.published() == [] and syncer.stored() == 0
