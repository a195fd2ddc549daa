"""The token flow against the real registry with ``auth.token``: the syncer
obtains service-principal tokens from the token endpoint (here a minimal
stand-in that checks the internal secret) and caches them per scope."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from berth.common.signing import Signer, generate_key, self_signed_certificate
from berth.common.testing import free_port
from oci import build_oci_image
from registry_process import RegistryProcess
from syncer_testing import INTERNAL, INTERNAL_SECRET, outbox_events
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

SERVICE = "registry.test:5000"


class TokenStandIn:
    """Grants exactly the requested scope to callers with the internal secret."""

    def __init__(self) -> None:
        self.key = generate_key()
        self.signer = Signer([self.key])
        self.port = free_port()
        self.realm = f"http://127.0.0.1:{self.port}/v2/token"
        self.requests: list[str] = []
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = Request(environ)
        self.requests.append(req.args.get("scope", ""))
        if req.headers.get("X-Berth-Internal") != INTERNAL_SECRET:
            return Response("{}", 401)(environ, start_response)
        access = []
        for scope in req.args.getlist("scope"):
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        token, _ = self.signer.sign({"iss": "berth-test", "sub": "berth",
                                     "aud": req.args["service"], "access": access},
                                    lifetime=300)
        body = f'{{"token": "{token}", "expires_in": 300}}'
        return Response(body, 200, content_type="application/json")(
            environ, start_response)


@pytest.fixture
def secured(tmp_path: Any) -> Iterator[tuple[RegistryProcess, TokenStandIn]]:
    tokens = TokenStandIn()
    thread = threading.Thread(target=tokens.server.serve_forever, daemon=True)
    thread.start()
    cert = tmp_path / "cert.pem"
    cert.write_bytes(self_signed_certificate(tokens.key, "berth-test"))
    extra = f"""auth:
  token:
    realm: {tokens.realm}
    service: {SERVICE}
    issuer: berth-test
    rootcertbundle: {cert}
"""
    proc = RegistryProcess(tmp_path / "reg", extra=extra).start()
    yield proc, tokens
    proc.stop()
    tokens.server.shutdown()


def test_reconcile_and_delete_through_the_token_flow(make_app, runtime, secured):
    proc, tokens = secured
    # skopeo cannot send the internal header: push with a token signed directly.
    layout = proc.root / "layout"
    digest = build_oci_image(layout, "1", {"a.txt": b"auth"})
    token = tokens.signer.sign({"iss": "berth-test", "sub": "berth", "aud": SERVICE,
                                "access": [{"type": "repository", "name": "sec/app",
                                            "actions": ["pull", "push"]}]},
                               lifetime=300)[0]
    subprocess.run(["skopeo", "--insecure-policy", "copy", "-q",
                    "--dest-tls-verify=false", "--dest-registry-token", token,
                    f"oci:{layout}:1", f"docker://127.0.0.1:{proc.port}/sec/app:1"],
                   check=True, capture_output=True, timeout=60)

    app = make_app(proc.url)
    run = app.extensions["berth.syncer"].reconciler.run_now("system:test")
    assert (run.errors, run.added) == (0, 1), run.error_details
    [pushed] = outbox_events(runtime, "registry.manifest.pushed")
    assert pushed["data"]["digest"] == digest
    assert "registry:catalog:*" in tokens.requests
    asked = len(tokens.requests)
    again = app.extensions["berth.syncer"].reconciler.run_now("system:test")
    assert again.errors == 0
    assert len(tokens.requests) == asked  # cached: no new token for the same scopes

    resp = app.test_client().post(
        "/internal/v1/manifests/delete", headers=INTERNAL,
        json={"registry": SERVICE, "repository": "sec/app", "digest": digest})
    assert resp.status_code == 202
    assert "repository:sec/app:delete" in tokens.requests
