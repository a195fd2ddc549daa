"""Security scanning through the whole stack: push an image whose first layer
installs vulnerable packages and whose second layer upgrades one and removes
another; the scanner (a process of `make run`) reports only what the final
image holds, through the ingress's /api/v1/tags/:id/vulnerabilities."""

from __future__ import annotations

import base64
import sys
import time
from pathlib import Path
from typing import Any

from tests.e2e.support.clients import Skopeo
from tests.e2e.support.stack import RunningStack

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "services" / "syncer" / "tests" / "unit" / "scanning"))
from scan_fixtures import (
    dpkg_status,
    os_release,
    osv_doc,
    python_metadata,
    write_image,
    write_osv,
)

SITE = "usr/lib/python3/dist-packages"
BASE = {"etc/os-release": os_release("debian", "12"),
        "var/lib/dpkg/status": dpkg_status(("libssl3", "3.0.9-1"), ("bash", "5.2.15-2"),
                                           source={"libssl3": "openssl"}),
        f"{SITE}/requests-2.25.0.dist-info/METADATA": python_metadata("requests", "2.25.0")}
UPGRADE = {"var/lib/dpkg/status": dpkg_status(("libssl3", "3.0.11-1"), ("bash", "5.2.15-2"),
                                              source={"libssl3": "openssl"}),
           f"{SITE}/.wh.requests-2.25.0.dist-info": b""}


def basic(admin: dict[str, str]) -> dict[str, str]:
    raw = f"{admin['username']}:{admin['token']}".encode()
    return {"Authorization": f"Basic {base64.b64encode(raw).decode()}"}


def poll(fetch: Any, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fetch()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError("condition not met in time")


def tag_id(stack: RunningStack, admin: dict[str, str],
           repository: str) -> tuple[int, int]:
    """(repository id, tag id) once the catalog has the pushed tag."""
    def find() -> tuple[int, int] | None:
        resp = stack.api("GET", "/api/v1/repositories", params={"all": "true"},
                         headers=basic(admin))
        for repo in resp.json() if resp.ok else []:
            if repo["full_name"] == repository and repo.get("tags_count"):
                tags = stack.api("GET", f"/api/v1/repositories/{repo['id']}/tags",
                                 headers=basic(admin))
                if tags.ok and tags.json():
                    return int(repo["id"]), int(tags.json()[0]["id"])
        return None

    found: tuple[int, int] = poll(find)
    return found


def test_a_pushed_image_is_scanned_and_only_its_final_content_reported(
        stack: RunningStack, admin: dict[str, str], workdir: Path) -> None:
    write_osv(stack.home / "osv",
              osv_doc("DSA-5001-1", "Debian:12", "openssl", fixed="3.0.11-1",
                      severity="high"),
              osv_doc("DSA-5002-1", "Debian:12", "openssl", fixed="3.0.13-1",
                      cvss="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"),
              osv_doc("PYSEC-2023-74", "PyPI", "requests", fixed="2.31.0",
                      severity="MODERATE"))
    layout = workdir / "image"
    digest = write_image(layout, "1.0", [BASE, UPGRADE])
    pushed = Skopeo(stack.host).push(layout, "1.0", "scanned",
                                     f"{admin['username']}:{admin['token']}")
    assert pushed.ok, pushed.err
    rid, tid = tag_id(stack, admin, "scanned")

    def done() -> dict[str, Any] | None:
        resp = stack.api("GET", f"/api/v1/tags/{tid}/vulnerabilities",
                         headers=basic(admin))
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body if body["status"] in ("done", "failed") else None

    body = poll(done)
    assert body["status"] == "done", body.get("error")
    assert body["digest"] == digest
    assert [(v["id"], v["package"], v["version"], v["fixed_version"])
            for v in body["vulnerabilities"]] == [
        ("DSA-5002-1", "libssl3", "3.0.11-1", "3.0.13-1")]
    assert body["summary"]["High"] == 1 and body["summary"]["total"] == 1
    assert body["database"]["documents"] == 3

    sbom = stack.api("GET", f"/api/v1/tags/{tid}/sbom", headers=basic(admin))
    assert sbom.status_code == 200
    names = {c["name"] for c in sbom.json()["components"]}
    assert {"libssl3", "bash"} <= names and "requests" not in names

    # Rescans are for admins; through the ingress they reach the syncer.
    assert stack.api("POST", f"/api/v1/vulnerabilities/{tid}").status_code == 401
    again = stack.api("POST", f"/api/v1/vulnerabilities/{tid}", headers=basic(admin))
    assert again.status_code == 202, again.text
    assert poll(done)["vulnerabilities"][0]["id"] == "DSA-5002-1"
    missing = stack.api("GET", "/api/v1/tags/987654/vulnerabilities", headers=basic(admin))
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "TAG_UNKNOWN"

    # The web UI (anonymous: the global namespace is public) shows the summary
    # in the tags table and the list on the tag's page.
    repo_page = stack.api("GET", f"/repositories/{rid}")
    assert repo_page.status_code == 200 and "1 High" in repo_page.text
    tag_page = stack.api("GET", f"/repositories/{rid}/tags/{tid}/vulnerabilities")
    assert tag_page.status_code == 200
    assert "DSA-5002-1" in tag_page.text and "3.0.13-1" in tag_page.text
    assert "DSA-5001-1" not in tag_page.text and "PYSEC-2023-74" not in tag_page.text
