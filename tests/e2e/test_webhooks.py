"""Webhooks end to end: a podman push reaches a local receiver as a signed
delivery; a receiver failing twice gets it on the third attempt, the delivery
log shows all three, and re-sending works."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.support.api import Api, eventually
from tests.e2e.support.clients import Podman
from tests.e2e.support.oci import simple_image
from tests.e2e.support.stack import RunningStack

PASSWORD = "correct-horse-battery"


@dataclass
class Receiver:
    """A local endpoint answering the queued statuses, then 200."""

    port: int = 0
    statuses: list[int] = field(default_factory=list)
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.got.append((dict(self.headers.items()), body))
            self.send_response(state.statuses.pop(0) if state.statuses else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def hook_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A stack whose webhooks may reach this machine's loopback receiver."""
    s = RunningStack(tmp_path_factory.mktemp("berth-webhooks") / "home", env={
        "BERTH_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
        "BERTH_WEBHOOK_BACKOFF_SECONDS": "1"})
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def api(hook_stack: RunningStack) -> Api:
    resp = hook_stack.api("POST", "/api/v1/users/bootstrap", json={"user": {
        "username": "admin", "email": "admin@example.test", "password": PASSWORD}})
    assert resp.status_code == 201, resp.text
    return Api(hook_stack, "admin", resp.json()["plain_token"])


def _namespace_id(api: Api, name: str) -> int:
    # Right after bootstrap the catalog's worker may be writing the same user
    # mirror row as this request (SQLite answers one of them 503): ask again.
    def probe() -> list[Any] | None:
        resp = api.call("GET", "/api/v1/namespaces", params={"all": "true"})
        return resp.json() if resp.status_code == 200 else None

    return int(next(n["id"] for n in eventually(probe, timeout=30)
                    if n["name"] == name))


def _webhook(api: Api, ns: int, name: str, url: str) -> dict[str, Any]:
    resp = api.call("POST", f"/api/v1/namespaces/{ns}/webhooks",
                    json={"webhook": {"name": name, "url": url}})
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def _push(stack: RunningStack, workdir: Path, repo: str, tag: str) -> None:
    layout = workdir / f"image-{tag}"
    simple_image(layout, tag, content=f"{repo}-{tag}")
    podman = Podman(stack.host, workdir / "podman")
    assert podman.login("admin", PASSWORD).ok
    loaded = podman.pull(f"oci:{layout}:{tag}")
    assert loaded.ok, loaded.err
    image = loaded.out.strip().splitlines()[-1]
    pushed = podman.push(image, f"{stack.host}/{repo}:{tag}")
    assert pushed.ok, pushed.err


def _signed(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_a_push_is_delivered_signed(hook_stack: RunningStack, api: Api,
                                    receiver: Receiver, tmp_path: Path) -> None:
    ns = _namespace_id(api, "admin")
    hook = _webhook(api, ns, "ci", receiver.url)
    _push(hook_stack, tmp_path, "admin/app", "v1")
    headers, body = eventually(lambda: receiver.got[:1], timeout=60)[0]
    assert headers["X-Berth-Signature"] == _signed(hook["secret"], body)
    doc = json.loads(body)
    assert (doc["action"], doc["namespace"], doc["repository"], doc["tag"]) == (
        "push", "admin", "admin/app", "v1")
    assert doc["actor"]["name"] == "admin"
    assert doc["event"]["type"] == "registry.manifest.pushed"


def test_retries_until_the_third_attempt_then_resend(
        hook_stack: RunningStack, api: Api, receiver: Receiver,
        tmp_path: Path) -> None:
    ns = _namespace_id(api, "admin")
    hook = _webhook(api, ns, "flaky", receiver.url)
    receiver.statuses = [500, 502]
    _push(hook_stack, tmp_path, "admin/flaky", "v1")
    eventually(lambda: len(receiver.got) >= 3, timeout=60)
    base = f"/api/v1/namespaces/{ns}/webhooks/{hook['id']}/deliveries"

    def done() -> dict[str, Any] | None:
        rows = api.call("GET", base).json()
        return rows[0] if rows and rows[0]["state"] == "succeeded" else None

    delivery = eventually(done, timeout=30)
    shown = api.call("GET", f"{base}/{delivery['id']}").json()
    assert [a["status"] for a in shown["attempt_log"]] == [500, 502, 200]
    assert len({body for _, body in receiver.got}) == 1

    resent = api.call("PUT", f"{base}/{delivery['id']}")
    assert resent.status_code == 202, resent.text
    eventually(lambda: len(receiver.got) >= 4, timeout=30)
    headers, body = receiver.got[3]
    assert body == receiver.got[0][1]
    assert headers["X-Berth-Signature"] == _signed(hook["secret"], body)
    assert headers["X-Berth-Delivery"] == resent.json()["uuid"]


def test_an_internal_url_is_refused(api: Api) -> None:
    ns = _namespace_id(api, "admin")
    # 127.0.0.1/32 is allow-listed for the receiver; nothing else internal is.
    for url in ("http://127.0.0.2:9/", "http://10.0.0.1/", "http://[::1]:9/",
                "http://169.254.169.254/"):
        resp = api.call("POST", f"/api/v1/namespaces/{ns}/webhooks",
                        json={"webhook": {"name": "bad", "url": url}})
        assert resp.status_code == 422, (url, resp.text)
