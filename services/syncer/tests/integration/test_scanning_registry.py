"""Scanning images pushed to the real registry: the notification's event
queues the digest, the runner reads manifest and layers as the syncer does,
and only what the final image holds is reported."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from berth.common.bus import Bus
from berth.common.events.base import Envelope
from berth.common.events.registry import ManifestPushed
from berth.syncer.scanning import queue
from berth.syncer.scanning.consumer import make_handler
from berth.syncer.scanning.errors import TagUnknown
from berth.syncer.scanning.runner import ScanRunner
from berth.syncer.scanning.scanner import build_scanner
from berth.syncer.scanning.tags import TagRef
from berth.syncer.scanning.worker import run_scanner
from syncer_testing import USER, outbox_events, wait_for

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "scanning"))
from scan_fixtures import (
    dpkg_status,
    os_release,
    osv_doc,
    python_metadata,
    write_image,
    write_osv,
)

SITE = "usr/lib/python3/dist-packages"
BASE = {"etc/os-release": os_release("debian", "12", "Debian GNU/Linux 12 (bookworm)"),
        "var/lib/dpkg/status": dpkg_status(("libssl3", "3.0.9-1"), ("bash", "5.2.15-2"),
                                           source={"libssl3": "openssl"}),
        f"{SITE}/requests-2.25.0.dist-info/METADATA": python_metadata("requests", "2.25.0")}
UPGRADE = {"var/lib/dpkg/status": dpkg_status(("libssl3", "3.0.11-1"), ("bash", "5.2.15-2"),
                                              source={"libssl3": "openssl"}),
           f"{SITE}/.wh.requests-2.25.0.dist-info": b""}
ADVISORIES = (
    osv_doc("DSA-5001-1", "Debian:12", "openssl", fixed="3.0.11-1", severity="high"),
    osv_doc("DSA-5002-1", "Debian:12", "openssl", fixed="3.0.13-1",
            cvss="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"),
    osv_doc("PYSEC-2023-74", "PyPI", "requests", fixed="2.31.0", severity="MODERATE"),
)


def push(registry: Any, repository: str, layers: list[dict[str, bytes | None]]) -> str:
    layout = registry.root / "layouts" / uuid.uuid4().hex
    digest = write_image(layout, "1", layers)
    subprocess.run(["skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false",
                    f"oci:{layout}:1", f"docker://127.0.0.1:{registry.port}/{repository}:1"],
                   check=True, capture_output=True, timeout=60)
    return digest


def pushed_event(runtime: Any, digest: str) -> Envelope:
    def find() -> dict[str, Any] | None:
        return next((e for e in outbox_events(runtime, "registry.manifest.pushed")
                     if e["data"]["digest"] == digest), None)

    return Envelope.from_json(wait_for(find))


def test_only_the_final_image_is_reported(make_app, runtime, registry, config, tmp_path):
    write_osv(tmp_path / "osv", *ADVISORIES)
    cfg = dataclasses.replace(config, registry_url=registry.url, osv_dir=tmp_path / "osv")
    app = make_app(registry.url)
    repo = f"team/scan{uuid.uuid4().hex[:6]}"
    digest = push(registry, repo, [BASE, UPGRADE])

    # What the scanner process does with the registry's notification.
    env = pushed_event(runtime, digest)
    with runtime.sessions.begin() as session:
        make_handler()(session, env)
    state = app.extensions["berth.syncer"]
    runner = ScanRunner(sessions=runtime.sessions, directory=state.directory,
                        client_for=state.manifests.client_for, scanner=build_scanner(cfg))
    assert runner.run_pending() == 1

    with runtime.sessions() as session:
        scan = queue.find(session, digest)
        assert scan is not None, "no scan row"
        assert scan.status == "done", scan.error
        assert scan.os == "Debian GNU/Linux 12 (bookworm)"
        found = [(f["id"], f["package"], f["version"], f["fixed_version"], f["severity"])
                 for f in scan.findings or []]
        names = {p["name"] for p in (scan.inventory or {})["packages"]}
    # The upgrade fixed DSA-5001 and the removed requests reports nothing.
    assert found == [("DSA-5002-1", "libssl3", "3.0.11-1", "3.0.13-1", "High")]
    assert names == {"libssl3", "bash"}


class OneTag:
    def __init__(self, ref: TagRef) -> None:
        self.ref = ref

    def resolve(self, tag_id: int, credentials: Mapping[str, str]) -> TagRef:
        if tag_id != self.ref.id:
            raise TagUnknown("tag not found")
        return self.ref


def test_the_scanner_process_scans_what_is_pushed(make_app, runtime, registry, config,
                                                  tmp_path):
    """``python -m berth.syncer scanner`` on the real bus, read through the API."""
    write_osv(tmp_path / "osv", *ADVISORIES)
    cfg = dataclasses.replace(config, registry_url=registry.url, osv_dir=tmp_path / "osv",
                              scan_poll_interval=0.2)
    repo = f"team/proc{uuid.uuid4().hex[:6]}"
    digest = push(registry, repo, [BASE])
    stop = threading.Event()
    worker = threading.Thread(target=run_scanner, args=(cfg, stop), daemon=True)
    worker.start()
    bus = Bus(cfg.amqp_url or None, cfg.home, "test")
    try:
        bus.publish([Envelope.wrap(ManifestPushed(registry=cfg.registry_service,
                                                  repository=repo, digest=digest, tag="1"),
                                   producer="syncer")])

        def done() -> bool:
            with runtime.sessions() as session:
                scan = queue.find(session, digest)
                return scan is not None and scan.status in ("done", "failed")

        wait_for(done, timeout=60)
    finally:
        stop.set()
        worker.join(timeout=30)
        bus.close()
    assert not worker.is_alive()
    app = make_app(registry.url, tag_resolver=OneTag(
        TagRef(41, "1", digest, repo, cfg.registry_service)))
    body = app.test_client().get("/api/v1/tags/41/vulnerabilities", headers=USER).get_json()
    assert body["status"] == "done", body
    assert {v["id"] for v in body["vulnerabilities"]} == {
        "DSA-5001-1", "DSA-5002-1", "PYSEC-2023-74"}
    assert body["summary"]["High"] == 2 and body["summary"]["Medium"] == 1
    sbom = app.test_client().get("/api/v1/tags/41/sbom", headers=USER).get_json()
    assert "pkg:pypi/requests@2.25.0" in {c.get("purl") for c in sbom["components"]}
