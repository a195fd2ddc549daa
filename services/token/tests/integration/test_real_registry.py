"""Tokens we sign are accepted by the real registry (distribution 2.8), with
RS256 and ES256 keys and with a rotated key bundle."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from berth.common.signing import Signer, generate_key, self_signed_certificate
from berth.common.testing import free_port
from token_helpers import PASSWORD, basic, internal

REGISTRY = shutil.which("docker-registry") or "/usr/bin/docker-registry"
SERVICE = "registry.test"
pytestmark = pytest.mark.skipif(not Path(REGISTRY).exists(),
                                reason="docker-registry is not installed")


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    return {"RS256": generate_key("RS256"), "ES256": generate_key("ES256"),
            "old": generate_key("RS256")}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory,
             keys: dict[str, Any]) -> Iterator[str]:
    work = Path(tmp_path_factory.mktemp("registry"))
    bundle = work / "bundle.pem"
    bundle.write_bytes(b"".join(self_signed_certificate(k, "berth-test")
                                for k in keys.values()))
    port = free_port()
    config = work / "config.yml"
    config.write_text(f"""version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: {work / "data"}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
auth:
  token:
    realm: http://127.0.0.1:1/v2/token
    service: {SERVICE}
    issuer: berth-test
    rootcertbundle: {bundle}
""")
    proc = subprocess.Popen([REGISTRY, "serve", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"registry did not start: {err[-2000:]}") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_registry_demands_a_token(registry) -> None:
    resp = requests.get(f"{registry}/v2/", timeout=5)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer realm=")


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_registry_accepts_our_tokens(make_app, make_user, authorizer, registry, keys,
                                     algorithm) -> None:
    # the newest key signs; the bundle trusts every configured key
    app = make_app(signer=Signer([keys["old"], keys[algorithm]]))
    client = app.test_client()
    svc = app.extensions["berth.token"]
    with svc.runtime.sessions() as session:
        svc.users.create(session, username="alice", email="a@example.com",
                         password=PASSWORD)
        session.commit()
    authorizer.table[("alice", "alice/app")] = ("pull", "push")

    service_token = client.get(f"/v2/token?service={SERVICE}&scope=registry:catalog:*",
                               headers=internal()).get_json()["token"]
    assert requests.get(f"{registry}/v2/", headers=bearer(service_token),
                        timeout=5).status_code == 200
    catalog = requests.get(f"{registry}/v2/_catalog", headers=bearer(service_token),
                           timeout=5)
    assert catalog.status_code == 200 and "repositories" in catalog.json()

    user_token = client.get(
        f"/v2/token?service={SERVICE}&scope=repository:alice/app:pull,push"
        "&scope=registry:catalog:*", headers=basic("alice", PASSWORD)).get_json()["token"]
    # granted: pushing into alice/app (starting a blob upload)
    upload = requests.post(f"{registry}/v2/alice/app/blobs/uploads/",
                           headers=bearer(user_token), timeout=5)
    assert upload.status_code == 202
    # not granted: the catalog, and someone else's repository
    assert requests.get(f"{registry}/v2/_catalog", headers=bearer(user_token),
                        timeout=5).status_code == 401
    assert requests.post(f"{registry}/v2/bob/app/blobs/uploads/",
                         headers=bearer(user_token), timeout=5).status_code == 401


def test_registry_refuses_a_wrong_audience_and_an_unknown_key(make_app, registry) -> None:
    stranger = make_app(signer=Signer([generate_key("RS256")])).test_client()
    token = stranger.get(f"/v2/token?service={SERVICE}&scope=registry:catalog:*",
                         headers=internal()).get_json()["token"]
    assert requests.get(f"{registry}/v2/", headers=bearer(token),
                        timeout=5).status_code == 401


def test_registry_refuses_a_token_for_another_service(make_app, keys, registry) -> None:
    client = make_app(signer=Signer([keys["RS256"]])).test_client()
    token = client.get("/v2/token?service=elsewhere&scope=registry:catalog:*",
                       headers=internal()).get_json()["token"]
    assert requests.get(f"{registry}/v2/", headers=bearer(token),
                        timeout=5).status_code == 401
