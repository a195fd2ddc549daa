"""Version ordering per ecosystem: one row per tricky case."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from berth.syncer.scanning.versions import (
    UnknownVersion,
    apk_compare,
    dpkg_compare,
    pep440_compare,
    sort_key,
)


def sign(n: int) -> int:
    return (n > 0) - (n < 0)


DPKG = [
    ("epoch_beats_bigger_upstream", "1:1.0", "2.0", 1),
    ("zero_epoch_is_no_epoch", "0:1.2", "1.2", 0),
    ("tilde_sorts_before_release", "1.0~rc1", "1.0", -1),
    ("double_tilde_before_single", "1.0~~", "1.0~", -1),
    ("tilde_in_upstream_with_revision", "1.0~rc1-1", "1.0-1", -1),
    ("missing_revision_is_oldest", "1.0", "1.0-1", -1),
    ("plus_suffix_is_newer", "1.0+b1", "1.0", 1),
    ("letter_sorts_before_punctuation", "1.0a", "1.0.1", -1),
    ("numeric_not_lexical_revision", "2.30-2", "2.30-10", -1),
    ("security_update_is_newer", "7.88.1-10+deb12u5", "7.88.1-10+deb12u4", 1),
    ("ubuntu_update_is_newer", "1.2.3-1ubuntu0.1", "1.2.3-1", 1),
    ("leading_zeros_ignored", "1.002", "1.2", 0),
    ("hyphen_in_upstream_last_one_splits", "1.2-3-4", "1.2-3-5", -1),
]


@pytest.mark.parametrize(("name", "a", "b", "expected"), DPKG, ids=[r[0] for r in DPKG])
def test_dpkg_ordering(name, a, b, expected):
    assert sign(dpkg_compare(a, b)) == expected
    assert sign(dpkg_compare(b, a)) == -expected


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg not installed")
@pytest.mark.parametrize(("name", "a", "b", "expected"), DPKG, ids=[r[0] for r in DPKG])
def test_dpkg_agrees_with_dpkg_itself(name, a, b, expected):
    op = {-1: "lt", 0: "eq", 1: "gt"}[expected]
    assert subprocess.run(["dpkg", "--compare-versions", a, op, b],
                          check=False).returncode == 0


APK = [
    ("revision_orders", "1.2.3-r0", "1.2.3-r1", -1),
    ("revision_numeric", "1.2-r10", "1.2-r9", 1),
    ("rc_before_release", "1.2.3_rc1", "1.2.3", -1),
    ("patch_after_release", "1.2.3_p1", "1.2.3", 1),
    ("alpha_before_beta", "1.2.3_alpha", "1.2.3_beta", -1),
    ("pre_before_rc", "1.2.3_pre2", "1.2.3_rc1", -1),
    ("rc_numbers", "1.2.3_rc2", "1.2.3_rc10", -1),
    ("letter_before_more_components", "1.2a", "1.2.1", -1),
    ("letter_after_bare", "1.2a", "1.2", 1),
    ("components_numeric", "3.0.10-r0", "3.0.8-r0", 1),
    ("revision_below_next_patch", "1.2.3-r1", "1.2.4-r0", -1),
    ("revision_above_bare", "1.2-r1", "1.2", 1),
    ("leading_zero_is_fraction", "1.01", "1.1", -1),
    ("equal", "2.40.1-r0", "2.40.1-r0", 0),
]


@pytest.mark.parametrize(("name", "a", "b", "expected"), APK, ids=[r[0] for r in APK])
def test_apk_ordering(name, a, b, expected):
    assert sign(apk_compare(a, b)) == expected
    assert sign(apk_compare(b, a)) == -expected


PEP440 = [
    ("rc_before_final", "1.0rc1", "1.0", -1),
    ("post_after_final", "1.0.post1", "1.0", 1),
    ("dev_before_alpha", "1.0.dev1", "1.0a1", -1),
    ("epoch_wins", "1!0.1", "2.0", 1),
    ("trailing_zeros_equal", "2.0", "2.0.0", 0),
    ("numeric_components", "2.10", "2.9", 1),
    ("local_after_public", "1.0+local.1", "1.0", 1),
]


@pytest.mark.parametrize(("name", "a", "b", "expected"), PEP440, ids=[r[0] for r in PEP440])
def test_pep440_ordering(name, a, b, expected):
    assert sign(pep440_compare(a, b)) == expected


@pytest.mark.parametrize(("compare", "bad"), [
    (dpkg_compare, "a:1.0"), (dpkg_compare, ""), (apk_compare, "1.0-beta"),
    (pep440_compare, "not a version")])
def test_unreadable_versions_are_refused(compare, bad):
    with pytest.raises(UnknownVersion):
        compare(bad, "1.0")


def test_sort_key_sorts_a_mixed_dpkg_list():
    versions = ["1.0", "1.0~rc1", "1:0.5", "1.0-1", "0.9"]
    assert sorted(versions, key=sort_key("deb")) == [
        "0.9", "1.0~rc1", "1.0", "1.0-1", "1:0.5"]
