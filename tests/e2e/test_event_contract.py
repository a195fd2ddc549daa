"""The published event contract holds for what the services really emit.

A queue of its own, bound to ``#`` on the stack's bus (as an external consumer
binds, docs/events.md), collects every event of a scenario that exercises
most event types: logins, users, application tokens, teams, namespaces,
push, pull, star, comment, tag deletion, a reconcile. Each envelope must
validate against its checked-in JSON Schema, strictly (no field the contract
does not list); an event type without a schema fails. Then the audit log's
visibility rule is checked on the same stack: a team member sees the records
of the team's private namespace, an outsider does not, and both see their own.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from berth.common.bus import EXCHANGE, connection_for
from berth.common.events.schema import strict
from kombu import Connection, Queue, binding

from tests.e2e.support.api import Api, eventually
from tests.e2e.support.clients import Skopeo
from tests.e2e.support.oci import simple_image
from tests.e2e.support.stack import RunningStack

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "events" / "schemas"

# What the scenario below must make the services emit (a test that saw
# nothing would prove nothing).
EXPECTED = {
    "identity.user.created", "identity.user.updated", "identity.user.deleted",
    "identity.application_token.created", "identity.application_token.destroyed",
    "identity.login.succeeded", "identity.login.failed",
    "catalog.team.created", "catalog.team.updated", "catalog.team.member_added",
    "catalog.team.member_role_changed", "catalog.team.member_removed",
    "catalog.namespace.created", "catalog.namespace.visibility_changed",
    "catalog.namespace.description_changed",
    "catalog.repository.created", "catalog.repository.updated",
    "catalog.tag.pushed", "catalog.tag.deleted",
    "catalog.star.added", "catalog.comment.created",
    "registry.manifest.pushed", "registry.manifest.pulled",
    "registry.manifest.deleted", "sync.run.finished",
}


class Tap:
    """A durable queue of the test's own on ``berth.events``, bound to ``#``."""

    def __init__(self, stack: RunningStack) -> None:
        self.conn: Connection = connection_for(None, stack.home)
        self.queue = Queue(f"berth.contract-{uuid.uuid4().hex[:8]}", exchange=EXCHANGE,
                           durable=True, bindings=[binding(EXCHANGE, routing_key="#")])
        self.bodies: list[dict[str, Any]] = []
        self.conn.ensure_connection(max_retries=3)
        EXCHANGE(self.conn.default_channel).declare()
        self.queue(self.conn.default_channel).declare()

    def drain(self, until: set[str], timeout: float = 90.0, quiet: float = 3.0) -> None:
        """Collect events until every type in ``until`` was seen and the bus
        stayed quiet for ``quiet`` seconds (or ``timeout`` passed)."""
        def on_message(body: Any, message: Any) -> None:
            raw = message.body
            self.bodies.append(json.loads(raw if isinstance(raw, str | bytes)
                                          else json.dumps(raw)))
            message.ack()

        deadline = time.monotonic() + timeout
        last = time.monotonic()
        with self.conn.Consumer([self.queue], callbacks=[on_message],
                                accept=["json"]):
            while time.monotonic() < deadline:
                try:
                    self.conn.drain_events(timeout=0.5)
                    last = time.monotonic()
                except TimeoutError:
                    if until <= self.types() and time.monotonic() - last >= quiet:
                        return

    def types(self) -> set[str]:
        """Event types collected so far."""
        return {str(b.get("type")) for b in self.bodies}

    def close(self) -> None:
        """Remove the queue and close the connection."""
        try:
            self.queue(self.conn.default_channel).delete()
        finally:
            self.conn.release()


@pytest.fixture
def tap(stack: RunningStack) -> Iterator[Tap]:
    t = Tap(stack)
    yield t
    t.close()


def _basic(user: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def _ok(resp: Any, *codes: int) -> Any:
    assert resp.status_code in (codes or (200, 201, 202, 204)), resp.text
    return resp.json() if resp.content else None


def _schema(body: dict[str, Any]) -> dict[str, Any]:
    path = SCHEMAS / f"{body.get('type')}.v{body.get('version')}.json"
    assert path.exists(), f"no schema for {body.get('type')} v{body.get('version')}"
    return dict(json.loads(path.read_text()))


def _traffic(stack: RunningStack, api: Api, admin: dict[str, str],
             workdir: Path) -> None:
    """One of almost everything a user and an admin can do."""
    tess = api.create_user("tess", "tess-password-1")
    _ok(api.call("PUT", f"/api/v1/users/{tess['id']}",
                 json={"user": {"display_name": "Tess T."}}))
    _ok(stack.api("POST", "/api/v1/auth/token", headers=_basic("tess", "tess-password-1")))
    refused = stack.api("GET", "/v2/token", params={"service": stack.host},
                        headers=_basic("tess", "not-her-password"))
    assert refused.status_code == 401
    made = _ok(stack.api("POST", f"/api/v1/users/{tess['id']}/application_tokens",
                         json={"application": "contract"},
                         headers=_basic("tess", "tess-password-1")))
    _ok(stack.api("DELETE", f"/api/v1/users/application_tokens/{made['id']}",
                  headers=_basic("tess", "tess-password-1")))

    team = _ok(api.call("POST", "/api/v1/teams", json={"team": {"name": "contract"}}))
    _ok(api.call("PUT", f"/api/v1/teams/{team['id']}",
                 json={"team": {"name": "contract-team"}}))

    def add_member() -> dict[str, Any] | None:
        # The catalog learns of tess from identity.user.created: retry until then.
        resp = api.call("POST", f"/api/v1/teams/{team['id']}/members",
                        json={"user": "tess", "role": "viewer"})
        return dict(resp.json()) if resp.status_code == 201 else None

    member = eventually(add_member)
    _ok(api.call("PUT", f"/api/v1/teams/{team['id']}/members/{member['id']}",
                 json={"role": "contributor"}))
    ns = _ok(api.call("POST", "/api/v1/namespaces", json={
        "namespace": {"name": "contract", "team": "contract-team"}}))
    _ok(api.call("PUT", f"/api/v1/namespaces/{ns['id']}",
                 json={"namespace": {"visibility": "protected"}}))
    _ok(api.call("PUT", f"/api/v1/namespaces/{ns['id']}",
                 json={"namespace": {"description": "contract checks"}}))

    creds = f"{admin['username']}:{admin['token']}"
    skopeo = Skopeo(stack.host)
    layout = workdir / "image"
    simple_image(layout, "v1", content="contract")
    pushed = skopeo.push(layout, "v1", "contract/img", creds)
    assert pushed.ok, pushed.err
    repo = eventually(lambda: api.repository("contract/img"))
    tag = eventually(lambda: next((t for t in api.tags(repo["id"])
                                   if t["name"] == "v1"), None))
    assert skopeo.pull("contract/img", "v1", workdir / "pulled", creds).ok
    _ok(api.call("PUT", f"/api/v1/repositories/{repo['id']}",
                 json={"repository": {"description": "checked"}}))
    _ok(api.call("POST", f"/api/v1/repositories/{repo['id']}/stars"))
    _ok(api.call("POST", f"/api/v1/repositories/{repo['id']}/comments",
                 json={"comment": {"body": "validated"}}))
    _ok(api.call("DELETE", f"/api/v1/tags/{tag['id']}"))
    _ok(api.call("DELETE", f"/api/v1/teams/{team['id']}/members/{member['id']}"))
    _ok(api.call("POST", "/api/v1/sync", json={}))
    _ok(api.call("DELETE", f"/api/v1/users/{tess['id']}"))


def test_every_emitted_event_matches_its_published_schema(
        stack: RunningStack, admin: dict[str, str], workdir: Path, tap: Tap) -> None:
    api = Api(stack, admin["username"], admin["token"])
    _traffic(stack, api, admin, workdir)
    tap.drain(EXPECTED)

    assert EXPECTED <= tap.types(), f"never emitted: {sorted(EXPECTED - tap.types())}"
    problems: list[str] = []
    for body in tap.bodies:
        schema = _schema(body)
        for validator in (jsonschema.Draft202012Validator(schema),
                          jsonschema.Draft202012Validator(strict(schema))):
            for error in validator.iter_errors(body):
                path = "/".join(str(p) for p in error.absolute_path)
                problems.append(f"{body['type']} {path}: {error.message}")
    assert problems == [], "\n".join(sorted(set(problems)))


def test_audit_records_follow_namespace_and_team_visibility(
        stack: RunningStack, admin: dict[str, str], workdir: Path) -> None:
    api = Api(stack, admin["username"], admin["token"])
    users = {name: api.create_user(name, f"{name}-password-1")
             for name in ("vmember", "voutsider")}
    tokens = {name: _ok(stack.api(
        "POST", f"/api/v1/users/{u['id']}/application_tokens",
        json={"application": "audit"}, headers=_basic(name, f"{name}-password-1")))
        for name, u in users.items()}
    team = _ok(api.call("POST", "/api/v1/teams", json={"team": {"name": "vteam"}}))
    eventually(lambda: api.call("POST", f"/api/v1/teams/{team['id']}/members",
                                json={"user": "vmember", "role": "viewer"}
                                ).status_code == 201)
    ns = _ok(api.call("POST", "/api/v1/namespaces",
                      json={"namespace": {"name": "vprivate", "team": "vteam"}}))
    layout = workdir / "image"
    simple_image(layout, "v1", content="visibility")
    assert Skopeo(stack.host).push(layout, "v1", "vprivate/img",
                                   f"{admin['username']}:{admin['token']}").ok

    def records(name: str, **params: Any) -> list[dict[str, Any]]:
        as_user = Api(stack, name, tokens[name]["plain_token"])
        resp = as_user.call("GET", "/api/v1/audit/events",
                            params={"per_page": 100, **params})
        assert resp.status_code == 200, resp.text
        return list(resp.json())

    def pushes(name: str) -> list[dict[str, Any]]:
        return [r for r in records(name, namespace="vprivate")
                if r["action"] == "repository.push"]

    seen = eventually(lambda: pushes("vmember"), timeout=60)
    assert seen[0]["actor"]["name"] == admin["username"]
    assert seen[0]["actor"]["address"] is None       # only admins see others' address
    created = [r for r in records("vmember", action="namespace.create")
               if r["target"]["id"] == str(ns["id"])]
    assert created, "the member sees the namespace's creation"
    assert [r for r in records("vmember", target_type="team")
            if r["target"]["id"] == str(team["id"])]
    assert pushes("voutsider") == []
    assert records("voutsider", namespace="vprivate") == []
    own = records("voutsider", action="application_token.create")
    assert [r["actor"]["name"] for r in own] == ["voutsider"]
