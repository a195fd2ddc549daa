"""The audit trail through the whole stack: a push, a visibility change, a
member added, a failed login and an application token creation each appear
exactly once, with the right actor and target, and the chain verifies."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from tests.e2e.support.api import Api, eventually
from tests.e2e.support.clients import Skopeo
from tests.e2e.support.oci import simple_image
from tests.e2e.support.stack import RunningStack


def _records(api: Api, action: str) -> list[dict[str, Any]]:
    resp = api.call("GET", "/api/v1/audit", params={"action": action, "per_page": 100})
    assert resp.status_code == 200, resp.text
    return [r for r in resp.json() if r["action"] == action]


def _once(api: Api, action: str, match: Any) -> dict[str, Any]:
    found = eventually(lambda: [r for r in _records(api, action) if match(r)])
    assert len(found) == 1, found
    return found[0]


def test_each_change_is_recorded_once_with_actor_and_target(
        stack: RunningStack, admin: dict[str, str], workdir: Path) -> None:
    api = Api(stack, admin["username"], admin["token"])
    dora = api.create_user("dora", "dora-password-1")
    basic = base64.b64encode(b"dora:dora-password-1").decode()
    made = stack.api("POST", f"/api/v1/users/{dora['id']}/application_tokens",
                     json={"application": "ci"},
                     headers={"Authorization": f"Basic {basic}"})
    assert made.status_code == 201, made.text

    team = api.call("POST", "/api/v1/teams", json={"team": {"name": "auditors"}})
    assert team.status_code == 201, team.text
    eventually(lambda: api.call("POST", f"/api/v1/teams/{team.json()['id']}/members",
                                json={"user": "dora", "role": "viewer"}
                                ).status_code == 201)
    ns = api.call("POST", "/api/v1/namespaces",
                  json={"namespace": {"name": "auditns", "team": "auditors"}})
    assert ns.status_code == 201, ns.text
    changed = api.call("PUT", f"/api/v1/namespaces/{ns.json()['id']}",
                       json={"namespace": {"visibility": "public"}})
    assert changed.status_code == 200, changed.text

    wrong = base64.b64encode(b"dora:not-her-password").decode()
    refused = stack.api("GET", "/v2/token", params={"service": stack.host},
                        headers={"Authorization": f"Basic {wrong}"})
    assert refused.status_code == 401

    layout = workdir / "image"
    simple_image(layout, "v1", content="audited")
    res = Skopeo(stack.host).push(layout, "v1", "auditns/img",
                                  f"{admin['username']}:{admin['token']}")
    assert res.ok, res.err

    push = _once(api, "repository.push", lambda r: r["repository"] == "auditns/img")
    assert push["actor"]["name"] == admin["username"]
    vis = _once(api, "namespace.change_visibility",
                lambda r: r["target"]["name"] == "auditns")
    assert vis["actor"]["name"] == admin["username"]
    member = _once(api, "team.add_member", lambda r: r["target"]["name"] == "auditors")
    assert member["actor"]["name"] == admin["username"]
    assert "dora" in str(member["details"])
    failed = _once(api, "login.failed", lambda r: "dora" in (
        str(r["actor"]["name"]) + str(r["target"]["name"])))
    assert failed["details"]
    token = _once(api, "application_token.create",
                  lambda r: r["actor"]["name"] == "dora")
    assert "ci" in str(token["details"]) or token["target"]["name"]

    verify = api.call("GET", "/api/v1/audit/verify")
    assert verify.status_code == 200 and verify.json()["intact"] is True
