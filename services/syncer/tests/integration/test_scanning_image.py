"""Reading an image the way registries really serve it: a bearer challenge
first, an image index to resolve, and blobs redirected to storage (which must
not receive the registry token)."""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from berth.common.http import make_session
from berth.common.testing import free_port
from berth.syncer.registry_client import RegistryClient, RegistryNotFound, TokenCache
from berth.syncer.scanning.image import RegistryImage
from berth.syncer.scanning.layers import LayerWalker
from syncer_testing import INTERNAL_SECRET
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "scanning"))
from scan_fixtures import apk_installed, os_release, tar_bytes

LAYER = gzip.compress(tar_bytes({"etc/os-release": os_release("alpine", "3.18.4"),
                                 "lib/apk/db/installed": apk_installed(("musl", "1.2.4-r2"))}))
LAYER_DIGEST = "sha256:" + hashlib.sha256(LAYER).hexdigest()
IMAGE = json.dumps({"schemaVersion": 2,
                    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "config": {"digest": "sha256:" + "0" * 64, "size": 2},
                    "layers": [{"mediaType":
                                "application/vnd.docker.image.rootfs.diff.tar.gzip",
                                "digest": LAYER_DIGEST, "size": len(LAYER)}]})
IMAGE_DIGEST = "sha256:" + hashlib.sha256(IMAGE.encode()).hexdigest()
INDEX = json.dumps({"schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": [
                        {"digest": "sha256:" + "9" * 64, "platform":
                         {"os": "linux", "architecture": "arm64"}},
                        {"digest": IMAGE_DIGEST, "platform":
                         {"os": "linux", "architecture": "amd64"}}]})
INDEX_DIGEST = "sha256:" + "1" * 64


class FakeRegistry:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.storage_auth: list[str | None] = []
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = Request(environ)
        return self.route(req)(environ, start_response)

    def route(self, req: Request) -> Response:
        if req.path == "/token":
            assert req.headers.get("X-Berth-Internal") == INTERNAL_SECRET
            assert req.args["scope"] == "repository:lib/alpine:pull"
            return Response(json.dumps({"token": "t0k", "expires_in": 300}),
                            content_type="application/json")
        if req.path.startswith("/storage/"):
            self.storage_auth.append(req.headers.get("Authorization"))
            return Response(LAYER, content_type="application/octet-stream")
        if req.headers.get("Authorization") != "Bearer t0k":
            challenge = (f'Bearer realm="{self.url}/token",service="reg",'
                         'scope="repository:lib/alpine:pull"')
            return Response("{}", 401, {"WWW-Authenticate": challenge})
        manifests = {INDEX_DIGEST: INDEX, IMAGE_DIGEST: IMAGE}
        for digest, body in manifests.items():
            if req.path == f"/v2/lib/alpine/manifests/{digest}":
                return Response(body, content_type=json.loads(body)["mediaType"])
        if req.path == f"/v2/lib/alpine/blobs/{LAYER_DIGEST}":
            return Response("", 307, {"Location": f"{self.url}/storage/blob?sig=x"})
        return Response('{"errors": []}', 404)


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    reg = FakeRegistry()
    yield reg
    reg.server.shutdown()


def client(url: str) -> RegistryClient:
    return RegistryClient(url, tokens=TokenCache(INTERNAL_SECRET, make_session()))


def test_an_index_resolves_to_this_platform_and_blobs_follow_storage_redirects(fake):
    image = RegistryImage(client(fake.url), "lib/alpine", INDEX_DIGEST)
    manifest = image.manifest()
    [layer] = image.layers(manifest)
    assert layer.digest == LAYER_DIGEST
    walker = LayerWalker()
    with image.blob(layer.digest) as stream:
        walker.apply(stream)
    inv = walker.inventory()
    assert (inv.os_id, [(p.name, p.version) for p in inv.packages]) == (
        "alpine", [("musl", "1.2.4-r2")])
    assert fake.storage_auth == [None]  # the registry token stayed home


def test_a_missing_manifest_is_not_found(fake):
    with pytest.raises(RegistryNotFound):
        RegistryImage(client(fake.url), "lib/alpine", "sha256:" + "7" * 64).manifest()
