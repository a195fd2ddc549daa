"""The HTTP RegistryOperations against a stand-in syncer on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from berth.catalog.services.registry_ops import (
    ManifestGone,
    RegistryDown,
    SyncerRegistryOperations,
)
from berth.common.testing import free_port


class Syncer(BaseHTTPRequestHandler):
    status = 202
    calls: ClassVar[list[tuple[str, dict[str, Any], str | None]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Syncer.calls.append((self.path, body, self.headers.get("X-Berth-Internal")))
        self.send_response(Syncer.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        return None


@pytest.fixture
def syncer() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Syncer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Syncer.calls = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_delete_posts_the_internal_contract(syncer: str) -> None:
    Syncer.status = 202
    SyncerRegistryOperations(syncer, "s3cret").delete_manifest("reg:5000", "a/b",
                                                               "sha256:1")
    assert Syncer.calls == [("/internal/v1/manifests/delete",
                             {"registry": "reg:5000", "repository": "a/b",
                              "digest": "sha256:1"}, "s3cret")]


def test_404_means_already_gone(syncer: str) -> None:
    Syncer.status = 404
    with pytest.raises(ManifestGone):
        SyncerRegistryOperations(syncer, "s").delete_manifest("r", "a/b", "d")


def test_503_means_down(syncer: str) -> None:
    Syncer.status = 503
    with pytest.raises(RegistryDown):
        SyncerRegistryOperations(syncer, "s").delete_manifest("r", "a/b", "d")


def test_unreachable_means_down() -> None:
    ops = SyncerRegistryOperations(f"http://127.0.0.1:{free_port()}", "s")
    with pytest.raises(RegistryDown):
        ops.delete_manifest("r", "a/b", "d")
