"""OSV matching: ranges per ecosystem, releases, severities, the database."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from berth.syncer.scanning.inventory import Inventory, Package
from berth.syncer.scanning.osv import AdvisoryDatabase, affected_range, summarize
from berth.syncer.scanning.severity import cvss3_score
from berth.syncer.scanning.versions import apk_compare, dpkg_compare, pep440_compare

sys.path.insert(0, str(Path(__file__).parent))
from scan_fixtures import osv_doc, write_osv

DEBIAN = {"ID": "debian", "VERSION_ID": "12", "PRETTY_NAME": "Debian GNU/Linux 12"}
ALPINE = {"ID": "alpine", "VERSION_ID": "3.18.4"}


def events(*evs: dict[str, str]) -> dict:
    return {"ranges": [{"type": "ECOSYSTEM", "events": list(evs)}]}


RANGES = [
    ("dpkg_below_fix", dpkg_compare, "3.0.9-1", events({"introduced": "0"},
                                                        {"fixed": "3.0.11-1"}), True),
    ("dpkg_at_fix", dpkg_compare, "3.0.11-1", events({"introduced": "0"},
                                                      {"fixed": "3.0.11-1"}), False),
    ("dpkg_tilde_backport_before_fix", dpkg_compare, "3.0.11-1~deb12u1",
     events({"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}), True),
    ("dpkg_epoch_is_past_fix", dpkg_compare, "1:1.0-1",
     events({"introduced": "0"}, {"fixed": "2.0-1"}), False),
    ("apk_revision_below_fix", apk_compare, "3.1.4-r0",
     events({"introduced": "0"}, {"fixed": "3.1.4-r1"}), True),
    ("apk_rc_before_introduced", apk_compare, "2.0_rc1",
     events({"introduced": "2.0"}, {"fixed": "2.1"}), False),
    ("pep440_prerelease_of_fix_is_affected", pep440_compare, "2.31.0rc1",
     events({"introduced": "2.3.0"}, {"fixed": "2.31.0"}), True),
    ("pep440_last_affected_inclusive", pep440_compare, "1.4",
     events({"introduced": "1.0"}, {"last_affected": "1.4"}), True),
    ("pep440_after_last_affected", pep440_compare, "1.4.1",
     events({"introduced": "1.0"}, {"last_affected": "1.4"}), False),
    ("second_range_reintroduced", pep440_compare, "3.1",
     events({"introduced": "1.0"}, {"fixed": "2.0"}, {"introduced": "3.0"}), True),
    ("between_ranges", pep440_compare, "2.5",
     events({"introduced": "1.0"}, {"fixed": "2.0"}, {"introduced": "3.0"}), False),
    ("explicit_versions_list", pep440_compare, "0.9", {"versions": ["0.9"]}, True),
]


@pytest.mark.parametrize(("name", "compare", "version", "affected", "expected"), RANGES,
                         ids=[r[0] for r in RANGES])
def test_ranges(name, compare, version, affected, expected):
    assert affected_range(version, affected, compare)[0] is expected


def test_the_reported_fix_is_the_first_above_the_installed_version():
    affected = events({"introduced": "0"}, {"fixed": "1.1"},
                      {"introduced": "2.0"}, {"fixed": "2.3"})
    assert affected_range("2.1", affected, pep440_compare) == (True, "2.3")


def db_with(tmp_path: Path, *docs: dict) -> AdvisoryDatabase:
    write_osv(tmp_path, *docs)
    db = AdvisoryDatabase(tmp_path)
    db.refresh()
    return db


def test_debian_matches_source_package_and_release(tmp_path):
    db = db_with(tmp_path,
                 osv_doc("DSA-1-1", "Debian:12", "openssl", fixed="3.0.11-1~deb12u2",
                         cvss="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
                 osv_doc("DSA-2-1", "Debian:11", "openssl", fixed="9.9"))
    inv = Inventory([Package("deb", "libssl3", "3.0.9-1", "openssl", "x")], DEBIAN)
    [finding] = db.match(inv)
    assert (finding.id, finding.package, finding.fixed_version, finding.severity) == (
        "DSA-1-1", "libssl3", "3.0.11-1~deb12u2", "Critical")
    assert finding.link == "https://advisories.example.test/DSA-1-1"


def test_alpine_release_and_pypi_normalized_names(tmp_path):
    db = db_with(tmp_path,
                 osv_doc("ALPINE-1", "Alpine:v3.18", "busybox", fixed="1.36.1-r2",
                         severity="HIGH"),
                 osv_doc("ALPINE-2", "Alpine:v3.17", "busybox", fixed="9"),
                 osv_doc("PYSEC-1", "PyPI", "Zope.Interface", fixed="5.0",
                         severity="MODERATE"))
    inv = Inventory([Package("apk", "busybox", "1.36.1-r0", "busybox"),
                     Package("pypi", "zope_interface", "4.7")], ALPINE)
    found = {(f.id, f.severity) for f in db.match(inv)}
    assert found == {("ALPINE-1", "High"), ("PYSEC-1", "Medium")}


def test_withdrawn_and_unreadable_documents_are_skipped(tmp_path):
    doc = osv_doc("GHSA-x", "PyPI", "flask", fixed="2.0")
    doc["withdrawn"] = "2026-01-01T00:00:00Z"
    write_osv(tmp_path, doc)
    (tmp_path / "broken.json").write_text("{not json")
    db = AdvisoryDatabase(tmp_path)
    db.refresh()
    assert db.count == 0 and db.match(Inventory([Package("pypi", "flask", "1.0")])) == []


def test_version_follows_content_and_reloads_when_files_change(tmp_path):
    db = db_with(tmp_path, osv_doc("PYSEC-1", "PyPI", "a", fixed="2.0"))
    first = db.version
    assert db.refresh() is False and db.version == first
    write_osv(tmp_path, osv_doc("PYSEC-2", "PyPI", "b", fixed="2.0"))
    assert db.refresh() is True and db.version != first and db.count == 2
    again = AdvisoryDatabase(tmp_path)
    again.refresh()
    assert again.version == db.version  # another replica agrees
    assert db.info()["advisories"] == 2 and db.peek()["documents"] == 2


def test_missing_directory_is_an_empty_database(tmp_path):
    db = AdvisoryDatabase(tmp_path / "nope")
    db.refresh()
    assert (db.version, db.count, db.peek()["updated_at"]) == ("empty", 0, None)


def test_refreshed_mark_gives_the_age(tmp_path):
    db = db_with(tmp_path, osv_doc("PYSEC-1", "PyPI", "a", fixed="2.0"))
    (tmp_path / ".refreshed").write_text("2020-01-01T00:00:00+00:00")
    info = db.peek()
    assert info["updated_at"].startswith("2020-01-01") and info["age_seconds"] > 86400
    write_osv(tmp_path, osv_doc("PYSEC-2", "PyPI", "b", fixed="2.0"))
    assert db.peek()["documents"] == 1  # remembered: API requests stay cheap
    assert db.peek(max_age=0)["documents"] == 2


@pytest.mark.parametrize(("vector", "score"), [
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
    ("CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:L", 1.8),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
    ("CVSS:3.1/AV:N", None),
])
def test_cvss3_base_scores(vector, score):
    assert cvss3_score(vector) == score


def test_summary_counts_every_level():
    counts = summarize([{"severity": "High"}, {"severity": "High"}, {"severity": "odd"}])
    assert counts["High"] == 2 and counts["Unknown"] == 1 and counts["total"] == 3
    assert counts["Critical"] == 0
    assert json.dumps(counts)


def test_a_document_rewritten_in_place_is_seen_at_the_next_full_check(tmp_path):
    write_osv(tmp_path, osv_doc("PYSEC-1", "PyPI", "a", fixed="2.0"))
    db = AdvisoryDatabase(tmp_path, full_check_every=3600)
    db.refresh()
    first = db.version
    path = tmp_path / "PyPI" / "PYSEC-1.json"
    dir_mtime = path.parent.stat().st_mtime_ns
    path.write_text(json.dumps(osv_doc("PYSEC-1", "PyPI", "a", fixed="3.0")) + " ")
    os.utime(path.parent, ns=(dir_mtime, dir_mtime))  # no directory change
    assert db.refresh() is False and db.version == first  # cheap check only
    db.full_check_every = 0
    assert db.refresh() is True and db.version != first
