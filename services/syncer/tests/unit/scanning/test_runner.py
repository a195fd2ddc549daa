"""The scan queue and runner: claim, scan, store, re-match, fail, retry."""

from __future__ import annotations

import gzip
import io
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest
from berth.common.events.base import Envelope
from berth.common.events.registry import ManifestPushed
from berth.syncer.models import ImageScan
from berth.syncer.registry_client import RegistryNotFound, RegistryUnavailable
from berth.syncer.scanning import queue
from berth.syncer.scanning.consumer import make_handler
from berth.syncer.scanning.image import Layer
from berth.syncer.scanning.osv import AdvisoryDatabase
from berth.syncer.scanning.runner import ScanRunner
from berth.syncer.scanning.scanner import OsvScanner

sys.path.insert(0, str(Path(__file__).parent))
from scan_fixtures import (
    LAYER_TYPE,
    dpkg_status,
    os_release,
    osv_doc,
    tar_bytes,
    write_osv,
)

STATUS = "var/lib/dpkg/status"


class MemoryImage:
    """An image held in memory (what RegistryImage reads from a registry)."""

    def __init__(self, layers: list[dict[str, bytes | None]], *,
                 fail: Exception | None = None, media: str = LAYER_TYPE) -> None:
        self.repository, self.digest = "team/app", "sha256:" + "c" * 64
        self.blobs = {f"sha256:{i}": gzip.compress(tar_bytes(f)) for i, f in enumerate(layers)}
        self.fail = fail
        self.media = media

    def manifest(self) -> dict[str, Any]:
        if self.fail is not None:
            raise self.fail
        return {"schemaVersion": 2, "layers": []}

    def layers(self, manifest: dict[str, Any]) -> list[Layer]:
        return [Layer(d, self.media, len(b)) for d, b in self.blobs.items()]

    @contextmanager
    def blob(self, digest: str) -> Iterator[IO[bytes]]:
        yield io.BytesIO(self.blobs[digest])


class MemoryRunner(ScanRunner):
    def __init__(self, images: dict[str, MemoryImage], **kw: Any) -> None:
        super().__init__(directory=None, client_for=None, **kw)  # type: ignore[arg-type]
        self.images = images

    def _image(self, registry: str, repository: str, digest: str) -> Any:
        return self.images[digest]


def digest() -> str:
    return "sha256:" + uuid.uuid4().hex * 2


@pytest.fixture
def osv_dir(tmp_path: Path) -> Path:
    write_osv(tmp_path / "osv", osv_doc("DSA-9-1", "Debian:12", "openssl",
                                        fixed="3.0.11-1", severity="high"))
    return tmp_path / "osv"


def make_runner(runtime, osv_dir: Path, images: dict[str, MemoryImage]) -> MemoryRunner:
    return MemoryRunner(images, sessions=runtime.sessions,
                        scanner=OsvScanner(AdvisoryDatabase(osv_dir)))


def queue_digest(runtime, d: str, **kw: Any) -> None:
    with runtime.sessions.begin() as s:
        queue.request(s, "registry.test:5000", "team/app", d, **kw)


def row(runtime, d: str) -> ImageScan:
    with runtime.sessions() as s:
        found = queue.find(s, d)
        assert found is not None
        return found


VULNERABLE = {"etc/os-release": os_release("debian", "12"),
              STATUS: dpkg_status(("openssl", "3.0.9-1"))}
UPGRADED = {STATUS: dpkg_status(("openssl", "3.0.11-1"))}


def test_a_queued_digest_is_scanned_and_stored(runtime, osv_dir):
    d = digest()
    runner = make_runner(runtime, osv_dir, {d: MemoryImage([VULNERABLE])})
    queue_digest(runtime, d)
    assert runner.run_pending() == 1
    scan = row(runtime, d)
    assert (scan.status, scan.scanner, scan.os) == ("done", "osv", "debian 12")
    assert [f["id"] for f in scan.findings or []] == ["DSA-9-1"]
    assert (scan.summary or {})["High"] == 1
    assert scan.db_version == runner.scanner.database_version()


def test_only_the_final_layer_state_is_matched(runtime, osv_dir):
    d = digest()
    runner = make_runner(runtime, osv_dir, {d: MemoryImage([VULNERABLE, UPGRADED])})
    queue_digest(runtime, d)
    runner.run_pending()
    scan = row(runtime, d)
    assert scan.status == "done" and scan.findings == []
    assert [p["version"] for p in (scan.inventory or {})["packages"]] == ["3.0.11-1"]


def test_a_scanned_digest_is_not_scanned_again_for_the_same_database(runtime, osv_dir):
    d = digest()
    runner = make_runner(runtime, osv_dir, {d: MemoryImage([VULNERABLE])})
    queue_digest(runtime, d)
    runner.run_pending()
    queue_digest(runtime, d)  # pushed again under another tag
    assert row(runtime, d).status == "done"
    assert runner.run_pending() == 0
    queue_digest(runtime, d, force=True)  # an admin asked
    assert runner.run_pending() == 1


def test_a_new_database_rematches_stored_inventories_without_downloading(runtime, osv_dir):
    d = digest()
    image = MemoryImage([VULNERABLE])
    runner = make_runner(runtime, osv_dir, {d: image})
    queue_digest(runtime, d)
    runner.run_pending()
    write_osv(osv_dir, osv_doc("DSA-10-1", "Debian:12", "openssl", fixed="3.0.10-1"))
    image.fail = AssertionError("must not be read again")
    assert runner.run_pending() == 1
    scan = row(runtime, d)
    assert {f["id"] for f in scan.findings or []} == {"DSA-9-1", "DSA-10-1"}
    assert scan.db_version == runner.scanner.database_version()


def test_an_image_that_is_gone_fails_and_a_registry_down_is_retried_later(runtime, osv_dir):
    gone, down = digest(), digest()
    runner = make_runner(runtime, osv_dir, {
        gone: MemoryImage([], fail=RegistryNotFound("x")),
        down: MemoryImage([], fail=RegistryUnavailable("503"))})
    queue_digest(runtime, gone)
    queue_digest(runtime, down)
    assert runner.run_pending() == 2
    assert row(runtime, gone).status == "failed" and row(runtime, gone).error == "x"
    retried = row(runtime, down)
    assert retried.status == "none" and retried.requested_at > retried.finished_at
    assert runner.run_pending() == 0  # not before its pause
    queue_digest(runtime, gone)  # pushed again: a failed scan is tried again
    assert row(runtime, gone).status == "none"


def test_zstd_layers_are_reported_unsupported(runtime, osv_dir):
    d = digest()
    image = MemoryImage([VULNERABLE], media="application/vnd.oci.image.layer.v1.tar+zstd")
    runner = make_runner(runtime, osv_dir, {d: image})
    queue_digest(runtime, d)
    runner.run_pending()
    assert row(runtime, d).status == "failed" and "zstd" in (row(runtime, d).error or "")


def test_one_claim_wins(runtime):
    d = digest()
    queue_digest(runtime, d)
    first = queue.claim(runtime.sessions, "a", 600)
    assert first is not None and queue.claim(runtime.sessions, "b", 600) is None
    assert row(runtime, d).status == "working"
    # A scanner that died: after stale_after its scan is queued again.
    assert queue.claim(runtime.sessions, "b", 0.000001) == first


def test_the_consumer_queues_pushed_digests(runtime):
    d = digest()
    env = Envelope.wrap(ManifestPushed(registry="registry.test:5000",
                                       repository="team/app", digest=d, tag="1"),
                        producer="syncer")
    with runtime.sessions.begin() as s:
        assert make_handler()(s, env) == {"digest": d, "status": "none"}
    assert row(runtime, d).status == "none"
    with runtime.sessions.begin() as s:
        assert make_handler(enabled=False)(s, env) == {"ignored": env.type}
    bad = Envelope.wrap(ManifestPushed(registry="r", repository="", digest=""),
                        producer="syncer")
    with pytest.raises(ValueError), runtime.sessions.begin() as s:
        make_handler()(s, bad)
