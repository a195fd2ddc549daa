"""Scanning in the UI: the severity column of the tags table and the
vulnerabilities page of one tag."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from services.webui.tests.conftest import post
from services.webui.tests.fake_backend import FakeBackend

DIGEST_A = "sha256:" + "a" * 64


def scanned(backend: FakeBackend, **over: Any) -> dict[str, Any]:
    scan = {"tag_id": 1, "tag": "latest", "repository": "library/busybox",
            "digest": DIGEST_A, "status": "done", "scanner": "osv",
            "scanned_at": "2026-01-02T03:04:05Z", "os": "Debian GNU/Linux 12",
            "error": None,
            "summary": {"Critical": 0, "High": 2, "Medium": 1, "Low": 0,
                        "Negligible": 0, "Unknown": 0, "total": 3},
            "vulnerabilities": [
                {"id": "DSA-5002-1", "package": "libssl3", "version": "3.0.11-1",
                 "fixed_version": "3.0.13-1", "severity": "High",
                 "link": "https://advisories.example.test/DSA-5002-1",
                 "summary": "<b>openssl</b>: a flaw"},
                {"id": "EVIL-1", "package": "bash", "version": "5.2",
                 "fixed_version": None, "severity": "Medium",
                 "link": "javascript:alert(1)", "summary": "x"}],
            "database": {"documents": 3, "updated_at": "2026-01-01T00:00:00+00:00"},
            **over}
    backend.scans[1] = scan
    return scan


def test_tags_table_shows_a_severity_summary_per_digest(alice_client: FlaskClient,
                                                       backend: FakeBackend) -> None:
    scanned(backend)
    page = alice_client.get("/repositories/10").get_data(as_text=True)
    assert "Vulnerabilities</th>" in page
    assert "2 High" in page and "1 Medium" in page
    assert "not scanned" in page  # tag v0's digest has no scan
    assert "/repositories/10/tags/1/vulnerabilities" in page
    calls = [r for r in backend.requests if r[1] == "/internal/v1/scans"]
    assert calls, "the summaries are asked for in one call"


def test_tags_table_survives_a_scanner_that_does_not_answer(
        alice_client: FlaskClient, backend: FakeBackend) -> None:
    scanned(backend)
    backend.scanner_down = True
    resp = alice_client.get("/repositories/10")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "latest" in page
    assert "2 High" not in page and "not scanned" in page


def test_vulnerabilities_page_lists_findings_escaped_and_safe_links(
        alice_client: FlaskClient, backend: FakeBackend) -> None:
    scanned(backend)
    resp = alice_client.get("/repositories/10/tags/1/vulnerabilities")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "DSA-5002-1" in page and "3.0.13-1" in page and "Debian GNU/Linux 12" in page
    assert 'href="https://advisories.example.test/DSA-5002-1"' in page
    assert "javascript:alert(1)" not in page
    assert "<b>openssl</b>" not in page and "&lt;b&gt;openssl&lt;/b&gt;" in page
    assert "rescan-button" not in page  # alice is no admin


def test_a_tag_not_scanned_yet_says_so(alice_client: FlaskClient,
                                       backend: FakeBackend) -> None:
    scanned(backend, status="none", vulnerabilities=[], summary={}, scanned_at=None)
    page = alice_client.get("/repositories/10/tags/1/vulnerabilities").get_data(
        as_text=True)
    assert "Not scanned yet" in page and "sbom-link" not in page


def test_unknown_tag_is_a_404_page(alice_client: FlaskClient) -> None:
    assert alice_client.get("/repositories/10/tags/99/vulnerabilities").status_code == 404


def test_admin_asks_for_a_new_scan_and_downloads_the_sbom(admin_client: FlaskClient,
                                                          backend: FakeBackend) -> None:
    scanned(backend)
    page = admin_client.get("/repositories/10/tags/1/vulnerabilities").get_data(
        as_text=True)
    assert "rescan-button" in page
    sbom = admin_client.get("/repositories/10/tags/1/sbom")
    assert sbom.status_code == 200 and sbom.mimetype == "application/vnd.cyclonedx+json"
    assert "attachment" in sbom.headers["Content-Disposition"]
    resp = post(admin_client, "/repositories/10/tags/1/rescan",
                form_page="/repositories/10/tags/1/vulnerabilities")
    assert resp.status_code == 302
    assert backend.scans[1]["status"] == "none"


def test_non_admin_rescan_shows_the_refusal(alice_client: FlaskClient,
                                            backend: FakeBackend) -> None:
    scanned(backend)
    resp = post(alice_client, "/repositories/10/tags/1/rescan",
                form_page="/repositories/10/tags/1/vulnerabilities")
    assert resp.status_code == 302
    assert backend.scans[1]["status"] == "done"
