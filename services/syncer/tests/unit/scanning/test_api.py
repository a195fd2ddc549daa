"""The scanning API: vulnerabilities and SBOM per tag, rescans."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import pytest
from berth.syncer.models import ImageScan, ObservedRepository, ObservedTag
from berth.syncer.scanning import queue
from berth.syncer.scanning.errors import TagUnknown
from berth.syncer.scanning.osv import AdvisoryDatabase
from berth.syncer.scanning.scanner import OsvScanner
from berth.syncer.scanning.tags import TagRef
from syncer_testing import ADMIN, USER, bearer

sys.path.insert(0, str(Path(__file__).parent))

DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64


class FakeTags:
    """Tag 7 is alice's (private); tag 8 is public; everything else is unknown."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []

    def resolve(self, tag_id: int, credentials: Mapping[str, str]) -> TagRef:
        self.seen.append({k: v for k, v in credentials.items()
                          if k in ("Authorization", "Portus-Auth")})
        auth = credentials.get("Authorization", "")
        if tag_id == 7 and auth in (USER["Authorization"], ADMIN["Authorization"]):
            return TagRef(7, "1.0", DIGEST, "alice/app", "registry.test:5000")
        if tag_id == 8:
            return TagRef(8, "latest", OTHER, "library", "registry.test:5000")
        raise TagUnknown("tag not found")


@pytest.fixture
def tags() -> FakeTags:
    return FakeTags()


@pytest.fixture
def client(make_app, tags, tmp_path):
    scanner = OsvScanner(AdvisoryDatabase(tmp_path / "osv"))
    return make_app(tag_resolver=tags, scanner=scanner).test_client()


def store_done(runtime, digest: str = DIGEST) -> None:
    findings = [{"id": "DSA-1-1", "package": "libssl3", "version": "3.0.9-1",
                 "fixed_version": "3.0.11-1", "severity": "High",
                 "link": "https://advisories.example.test/DSA-1-1", "summary": "x",
                 "aliases": [], "ecosystem": "Debian:12"}]
    with runtime.sessions.begin() as s:
        s.add(ImageScan(digest=digest, service="registry.test:5000",
                        repository="alice/app", status="done", scanner="osv",
                        db_version="v1", requested_at=datetime(2026, 1, 1),
                        finished_at=datetime(2026, 1, 1, 0, 1), attempts=1,
                        os="Debian GNU/Linux 12", findings=findings,
                        summary={"High": 1},
                        inventory={"os_release": {"ID": "debian", "VERSION_ID": "12"},
                                   "packages": [{"kind": "deb", "name": "libssl3",
                                                 "version": "3.0.9-1",
                                                 "source": "openssl", "path": "p"}]}))


def error_code(resp) -> str:
    body = resp.get_json()
    assert set(body) >= {"message", "errors"}
    return body["errors"][0]["code"]


def test_an_unscanned_tag_reports_status_none(client):
    resp = client.get("/api/v1/tags/8/vulnerabilities")
    assert resp.status_code == 200
    body = resp.get_json()
    assert (body["status"], body["digest"], body["vulnerabilities"]) == ("none", OTHER, [])
    assert body["summary"]["total"] == 0 and body["database"]["documents"] == 0


def test_a_scanned_tag_lists_its_vulnerabilities(client, runtime, tags):
    store_done(runtime)
    resp = client.get("/api/v1/tags/7/vulnerabilities", headers=USER)
    body = resp.get_json()
    assert resp.status_code == 200 and body["status"] == "done"
    assert body["summary"]["High"] == 1 and body["summary"]["total"] == 1
    assert body["vulnerabilities"][0]["id"] == "DSA-1-1"
    assert body["scanned_at"] == "2026-01-01T00:01:00Z"
    assert tags.seen[-1] == USER  # the caller's own credentials went to the catalog


def test_a_private_tag_and_a_missing_one_look_the_same(client, runtime):
    store_done(runtime)
    hidden = client.get("/api/v1/tags/7/vulnerabilities", headers=bearer("mallory"))
    missing = client.get("/api/v1/tags/999/vulnerabilities", headers=bearer("mallory"))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json() == missing.get_json()
    assert error_code(hidden) == "TAG_UNKNOWN"


def test_bad_credentials_are_refused_before_the_catalog_is_asked(client, tags):
    resp = client.get("/api/v1/tags/8/vulnerabilities",
                      headers={"Authorization": "Bearer not-a-jwt"})
    assert resp.status_code == 401 and error_code(resp) == "UNAUTHORIZED"
    assert tags.seen == []


@pytest.mark.parametrize("path", ["/api/v1/tags/x1/vulnerabilities",
                                  "/api/v1/tags/-3/sbom"])
def test_a_malformed_tag_id_is_422(client, path):
    resp = client.get(path)
    assert resp.status_code == 422 and error_code(resp) == "INVALID"


def test_sbom_is_cyclonedx_once_inventoried(client, runtime):
    before = client.get("/api/v1/tags/7/sbom", headers=USER)
    assert before.status_code == 404 and error_code(before) == "SBOM_UNKNOWN"
    store_done(runtime)
    resp = client.get("/api/v1/tags/7/sbom", headers=USER)
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.cyclonedx+json"
    doc = resp.get_json()
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.5"
    assert doc["metadata"]["component"]["version"] == DIGEST
    purls = [c.get("purl") for c in doc["components"]]
    assert "pkg:deb/debian/libssl3@3.0.9-1?distro=debian-12" in purls
    assert client.get("/api/v1/tags/7/sbom", headers=USER).get_json() == doc  # stable
    hidden = client.get("/api/v1/tags/7/sbom", headers=bearer("mallory"))
    assert hidden.status_code == 404 and error_code(hidden) == "TAG_UNKNOWN"


def test_rescan_all_is_for_admins_and_queues_observed_digests(client, runtime):
    store_done(runtime)
    with runtime.sessions.begin() as s:
        repo = ObservedRepository(service="registry.test:5000", name="team/seen",
                                  updated_at=datetime(2026, 1, 1))
        s.add(repo)
        s.flush()
        s.add(ObservedTag(repository_id=repo.id, tag="1", digest=OTHER,
                          updated_at=datetime(2026, 1, 1)))
    assert client.post("/api/v1/vulnerabilities").status_code == 401
    denied = client.post("/api/v1/vulnerabilities", headers=USER)
    assert denied.status_code == 403 and error_code(denied) == "DENIED"
    resp = client.post("/api/v1/vulnerabilities", headers=ADMIN)
    assert resp.status_code == 202 and resp.get_json() == {"queued": 2}
    with runtime.sessions() as s:
        assert {(r.digest, r.status) for r in s.query(ImageScan)} == {
            (DIGEST, "none"), (OTHER, "none")}


def test_rescan_one_tag(client, runtime):
    store_done(runtime)
    assert client.post("/api/v1/vulnerabilities/7").status_code == 401
    assert client.post("/api/v1/vulnerabilities/7", headers=USER).status_code == 403
    missing = client.post("/api/v1/vulnerabilities/999", headers=ADMIN)
    assert missing.status_code == 404 and error_code(missing) == "TAG_UNKNOWN"
    bad = client.post("/api/v1/vulnerabilities/abc", headers=ADMIN)
    assert bad.status_code == 422
    resp = client.post("/api/v1/vulnerabilities/7", headers=ADMIN)
    assert resp.status_code == 202 and resp.get_json()["status"] == "none"
    with runtime.sessions() as s:
        row = queue.find(s, DIGEST)
        assert row is not None and row.status == "none"


def test_openapi_documents_the_scanning_routes(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    for path in ("/api/v1/tags/{tag_id}/vulnerabilities", "/api/v1/tags/{tag_id}/sbom",
                 "/api/v1/vulnerabilities", "/api/v1/vulnerabilities/{tag_id}"):
        assert path in paths


def test_internal_summaries_of_many_digests(client, runtime):
    from syncer_testing import INTERNAL

    store_done(runtime)
    url = f"/internal/v1/scans?digest={DIGEST}&digest={OTHER}"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=ADMIN).status_code == 401  # users never
    resp = client.get(url, headers=INTERNAL)
    assert resp.status_code == 200
    scans = resp.get_json()["scans"]
    assert scans[DIGEST]["status"] == "done" and scans[DIGEST]["summary"]["High"] == 1
    assert scans[OTHER] == {"status": "none", "summary": None, "scanned_at": None}
    assert client.get("/internal/v1/scans", headers=INTERNAL).status_code == 422
    assert client.get("/internal/v1/scans?digest=nope", headers=INTERNAL).status_code == 422
