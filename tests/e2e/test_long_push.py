"""A push that outlives its registry token succeeds through the refresh token,
and fails cleanly when that refresh token is revoked half-way.

The numbers that shape the scenario, checked against the clients and the
registry installed here:

* containers/image (skopeo 1.9, podman 4.3) keeps a registry token until
  ``issued_at + max(expires_in, 60 s)``: it never asks again within a minute,
  however short the lifetime. With an ``identitytoken`` in its auth file it
  asks with the OAuth2 form (``POST /v2/token``, ``grant_type=refresh_token``,
  ``client_id=containers/image``, one ``scope`` field per resource), never
  with Basic credentials.
* distribution 2.8.2 accepts a token until ``exp`` plus a fixed leeway of
  60 s (``Leeway`` in ``registry/auth/token/token.go``, not configurable).

So the push here lasts longer than ``LIFETIME + LEEWAY`` from its first token
(about 70 s, through a loopback proxy that slows uploads), which is also longer
than the client's one-minute floor: its last requests can only succeed with a
token the client fetched through the refresh grant during the push. A second
push runs alongside and has its refresh token revoked (a password change) a
few seconds in. The ingress must stream upload bodies for any of this to work:
a buffered body would reach the registry with the first token long dead.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from berth.common.signing import Signer, load_private_key

from tests.e2e.support.api import Api, eventually
from tests.e2e.support.clients import Result, Skopeo
from tests.e2e.support.oci import build_image
from tests.e2e.support.slowproxy import SlowProxy
from tests.e2e.support.stack import RunningStack

LIFETIME = 2          # BERTH_TOKEN_LIFETIME of this stack, seconds
LEEWAY = 60           # distribution 2.8's clock leeway on exp and nbf
CLIENT_FLOOR = 60     # containers/image's minimum token lifetime
LAYER_BYTES = 200_000
# The proxy never goes faster than its rate, and the first token is fetched
# before the layer's upload starts: the manifest goes in at least this long
# after it (one second more than needed, for whole-second log times).
UPLOAD_SECONDS = LIFETIME + LEEWAY + 2
ADMIN = ("admin", "correct-horse-battery")
ACCESS_LOG_TIME = re.compile(r"\[(\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\]")


@dataclass
class Push:
    """One slow push: who, where, what, and how it ended."""

    user: str
    user_id: int
    password: str
    repo: str
    digest: str
    started: float = 0.0
    ended: float = 0.0
    result: Result | None = None
    revoked_at: float | None = None


@dataclass
class Scenario:
    """The stack and both pushes, once they have ended."""

    stack: RunningStack
    kept: Push
    revoked: Push


def token_events(stack: RunningStack, user: str) -> list[dict[str, Any]]:
    """The token service's ``token_issued`` lines for ``user``, oldest first."""
    events = []
    for line in stack.log("token").splitlines():
        if not line.startswith("{"):
            continue
        event = json.loads(line)
        if event.get("event") == "token_issued" and event.get("sub") == user:
            event["at"] = datetime.fromisoformat(event["timestamp"]).timestamp()
            events.append(event)
    return sorted(events, key=lambda e: e["at"])


def refresh_token_for(stack: RunningStack, user: str, password: str) -> str:
    """What a client gets from ``docker login`` with a refresh token: the
    OAuth2 password grant, offline access."""
    resp = stack.api("POST", "/v2/token", data={
        "grant_type": "password", "username": user, "password": password,
        "service": stack.host, "client_id": "berth-e2e", "access_type": "offline"})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["refresh_token"])


def write_authfile(path: Path, registry: str, user: str, refresh: str) -> Path:
    """An auth file as containers/image reads it: ``auth`` must decode to
    ``name:`` (the name is not sent), ``identitytoken`` is the refresh token."""
    auth = base64.b64encode(f"{user}:".encode()).decode()
    path.write_text(json.dumps({"auths": {registry: {
        "auth": auth, "identitytoken": refresh}}}))
    return path


def slow_push(push: Push, layout: Path, proxy: SlowProxy, authfile: Path) -> Push:
    """Run one push through ``proxy`` and record when it started and ended."""
    push.started = time.time()
    push.result = Skopeo(proxy.host).push(layout, "v1", push.repo, None,
                                          authfile=authfile)
    push.ended = time.time()
    return push


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """Both pushes, run side by side on a stack of its own with short tokens."""
    work = tmp_path_factory.mktemp("long-push")
    stack = RunningStack(work / "home", env={"BERTH_TOKEN_LIFETIME": str(LIFETIME)})
    stack.start()
    try:
        boot = stack.api("POST", "/api/v1/users/bootstrap", json={"user": {
            "username": ADMIN[0], "email": "admin@example.test", "password": ADMIN[1]}})
        assert boot.status_code == 201, boot.text
        api = Api(stack, ADMIN[0], boot.json()["plain_token"])
        pushes = []
        for user in ("lena", "rory"):
            password = f"{user}-password-1"
            user_id = int(api.create_user(user, password)["id"])
            layout = work / f"image-{user}"
            digest = build_image(layout, "v1", [{"blob.bin": os.urandom(LAYER_BYTES)}])
            pushes.append((Push(user, user_id, password, f"{user}/big", digest), layout))
        # Each push gets its own proxy; the rate makes the layer's upload alone
        # outlast the first token's exp + leeway.
        rate = LAYER_BYTES // UPLOAD_SECONDS
        with SlowProxy(stack.port, rate) as p1, SlowProxy(stack.port, rate) as p2, \
                ThreadPoolExecutor(2) as pool:
            futures = []
            for (push, layout), proxy in zip(pushes, (p1, p2), strict=True):
                refresh = refresh_token_for(stack, push.user, push.password)
                authfile = write_authfile(work / f"auth-{push.user}.json", proxy.host,
                                          push.user, refresh)
                futures.append(pool.submit(slow_push, push, layout, proxy, authfile))
            kept, revoked = pushes[0][0], pushes[1][0]
            # Revoke once the push holds its first token and is uploading.
            eventually(lambda: [e for e in token_events(stack, revoked.user)
                                if e["via"] == "refresh_token"], timeout=30)
            time.sleep(3)
            changed = api.call("PUT", f"/api/v1/users/{revoked.user_id}", json={
                "user": {"password": f"{revoked.user}-password-2"}})
            assert changed.status_code == 200, changed.text
            revoked.revoked_at = time.time()
            revoked.password = f"{revoked.user}-password-2"
            for future in futures:
                future.result(timeout=UPLOAD_SECONDS + 60)
        yield Scenario(stack, kept, revoked)
    finally:
        stack.stop()


def test_push_longer_than_token_lifetime_and_leeway_succeeds_through_refresh(
        scenario: Scenario, tmp_path: Path) -> None:
    stack, push = scenario.stack, scenario.kept
    assert push.result is not None and push.result.ok, push.result and push.result.err

    events = token_events(stack, push.user)
    assert [e["via"] for e in events[:1]] == ["password"]
    during = [e for e in events if push.started <= e["at"] <= push.ended]
    assert during and all(e["via"] == "refresh_token" for e in during), during
    assert all(e["via"] == "refresh_token" for e in events[1:]), events
    # The client came back for a new token once its first one had run out.
    assert len(during) >= 2, during
    assert during[-1]["at"] - during[0]["at"] >= CLIENT_FLOOR
    assert all(f"repository:{push.repo}:pull,push" in e["scopes"] for e in during)

    # The manifest went in after the first token was dead even with the leeway,
    # so the registry accepted a token the push refreshed for itself.
    first_iat = int(during[0]["at"])
    manifest_at = last_access(stack, f"PUT /v2/{push.repo}/manifests/v1 ", 201)
    assert manifest_at - first_iat > LIFETIME + LEEWAY

    creds = f"{push.user}:{push.password}"
    assert Skopeo(stack.host).digest(push.repo, "v1", creds) == push.digest
    pulled = Skopeo(stack.host).pull(push.repo, "v1", tmp_path / "pulled", creds)
    assert pulled.ok, pulled.err


def test_push_fails_cleanly_when_its_refresh_token_is_revoked_midway(
        scenario: Scenario) -> None:
    stack, push = scenario.stack, scenario.revoked
    assert push.result is not None and push.revoked_at is not None
    assert not push.result.ok, push.result.out
    # containers/image reports the token service's own message.
    assert "invalid refresh token" in push.result.err, push.result.err
    # It failed when it came back for a token, not before.
    assert push.ended - push.started >= CLIENT_FLOOR
    events = token_events(stack, push.user)
    assert events and not [e for e in events if e["at"] > push.revoked_at], events
    # Nothing half-pushed: the tag does not exist, even for an admin.
    assert Skopeo(stack.host).digest(push.repo, "v1", ":".join(ADMIN)) is None
    assert Skopeo(stack.host).digest("lena/big", "v1", ":".join(ADMIN)) \
        == scenario.kept.digest


@pytest.mark.parametrize(("expired_for", "status"), [
    (LEEWAY - 20, 200),   # expired, but within the leeway: still accepted
    (LEEWAY + 10, 401),   # past exp + leeway: refused
])
def test_registry_refuses_a_token_only_past_exp_plus_leeway(
        scenario: Scenario, expired_for: int, status: int) -> None:
    stack = scenario.stack
    config = yaml.safe_load((stack.home / "registry" / "config.yml").read_text())
    signer = Signer([load_private_key(stack.home / "keys" / "token-signing.pem")])
    issued = int(time.time()) - LIFETIME - expired_for
    token, claims = signer.sign({"iss": config["auth"]["token"]["issuer"],
                                 "sub": scenario.kept.user, "aud": stack.host,
                                 "access": []}, lifetime=LIFETIME, now=issued)
    assert claims["exp"] < time.time()
    resp = requests.get(f"{stack.url}/v2/", timeout=10,
                        headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == status, resp.text


def last_access(stack: RunningStack, request_line: str, status: int) -> int:
    """UNIX time (seconds) of the last ingress access-log line for
    ``request_line`` answered with ``status``. The ingress buffers its access
    log (written at least every second), so the line may take a moment."""
    deadline = time.monotonic() + 10
    while True:
        seen = []
        for line in (stack.home / "nginx" / "access.log").read_text().splitlines():
            if request_line in line and f'" {status} ' in line:
                match = ACCESS_LOG_TIME.search(line)
                assert match is not None, line
                seen.append(int(datetime.strptime(match.group(1), "%d/%b/%Y:%H:%M:%S %z")
                                .astimezone(UTC).timestamp()))
        if seen or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert seen, f"no {request_line!r} with {status} in the access log"
    return seen[-1]
