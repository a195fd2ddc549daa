"""`make run`'s stack: routed as DESIGN.md says, honest health, a crashed child
restarted, and nothing left running after SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.support.stack import RunningStack, port_open


def _wait(predicate, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def test_routes_reach_each_service(stack: RunningStack) -> None:
    assert stack.api("GET", "/api/v1/_ping").status_code == 200
    assert stack.api("GET", "/api/version").status_code == 200
    challenge = stack.api("GET", "/v2/")
    assert challenge.status_code == 401
    assert f'realm="{stack.url}/v2/token"' in challenge.headers["WWW-Authenticate"]
    assert stack.api("GET", "/v2/token", params={"service": stack.host}).status_code == 200
    assert stack.api("GET", "/internal/v1/registries").status_code == 404
    assert stack.api("GET", "/.well-known/jwks.json").json()["keys"]


def test_health_reports_a_stopped_registry_then_recovers(stack: RunningStack) -> None:
    syncer = f"http://127.0.0.1:{stack.port_base + 3}/api/v1/health"
    assert requests.get(syncer, timeout=10).status_code == 200
    stack.supervisorctl("stop", "registry")
    try:
        resp = requests.get(syncer, timeout=20)
        assert resp.status_code == 503
        failing = [k for k, v in resp.json().items() if not v["success"]]
        assert any("registry" in name for name in failing)
    finally:
        stack.supervisorctl("start", "registry")
    assert _wait(lambda: requests.get(syncer, timeout=10).status_code == 200)


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(c) for c in (task / "children").read_text().split())
    return found


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_crashed_service_is_restarted(stack: RunningStack,
                                      admin: dict[str, str]) -> None:
    status = stack.supervisorctl("pid", "token")
    pid = int(status.strip())
    workers = _children(pid)
    assert workers
    os.kill(pid, signal.SIGKILL)
    # The workers go with their master: orphans would keep the port from the
    # master started in its place and answer with a log pipe nobody reads.
    assert _wait(lambda: not any(_alive(w) for w in workers), timeout=30)
    assert _wait(lambda: stack.api("GET", "/v2/token",
                                   params={"service": stack.host}).status_code == 200,
                 timeout=60)
    new_pid = int(stack.supervisorctl("pid", "token").strip())
    assert new_pid != pid
    for _ in range(20):
        resp = stack.api("GET", "/v2/token", params={"service": stack.host},
                         auth=(admin["username"], admin["token"]))
        assert resp.status_code == 200, resp.text


@pytest.fixture(scope="module")
def rs256_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A second stack signing with an RSA key (RS256; generated keys are P-256
    by default); stopped by the last test."""
    own = RunningStack(tmp_path_factory.mktemp("rs256") / "home",
                       env={"BERTH_TOKEN_ALGORITHM": "RS256"})
    own.start()
    yield own
    own.stop()


def test_the_default_stack_signs_es256(stack: RunningStack,
                                      admin: dict[str, str]) -> None:
    import jwt

    # As the admin: other scenarios on this shared stack may turn anonymous
    # access off or throttle loopback, and this test is about the signature.
    resp = stack.api("GET", "/v2/token", params={"service": stack.host},
                     auth=(admin["username"], admin["token"]))
    assert resp.status_code == 200, resp.text
    assert jwt.get_unverified_header(resp.json()["token"])["alg"] == "ES256"


def test_rs256_tokens_are_accepted_by_the_registry(rs256_stack: RunningStack,
                                                   tmp_path: Path) -> None:
    import jwt

    from tests.e2e.support.clients import Skopeo
    from tests.e2e.support.oci import simple_image

    resp = rs256_stack.api("POST", "/api/v1/users/bootstrap", json={"user": {
        "username": "root", "email": "root@example.test", "password": "root-password-1"}})
    assert resp.status_code == 201, resp.text
    creds = f"root:{resp.json()['plain_token']}"
    token = rs256_stack.api("GET", "/v2/token", params={"service": rs256_stack.host},
                            auth=("root", "root-password-1")).json()["token"]
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    pushed = simple_image(tmp_path / "image", "v1", content="rs256")
    skopeo = Skopeo(rs256_stack.host)
    res = skopeo.push(tmp_path / "image", "v1", "root/rs", creds)
    assert res.ok, res.err
    assert skopeo.digest("root/rs", "v1", creds) == pushed


def test_sigterm_leaves_nothing_running(rs256_stack: RunningStack) -> None:
    own = rs256_stack
    assert own.api("GET", "/api/v1/_ping").status_code == 200
    key = (own.home / "keys" / "token-signing.pem").read_bytes()
    own.stop()
    assert not any(port_open(p) for p in own.ports())
    left = subprocess.run(["pgrep", "-f", str(own.home)], check=False,
                          capture_output=True, text=True)
    assert left.stdout.strip() == ""
    # Running again reuses the data in BERTH_HOME (keys, secrets, databases).
    from berth.devstack.generate import generate
    from berth.devstack.layout import Stack

    generate(Stack(home=own.home, port=own.port, port_base=own.port_base))
    assert (own.home / "keys" / "token-signing.pem").read_bytes() == key
    assert (own.home / "db" / "token.sqlite").exists()
