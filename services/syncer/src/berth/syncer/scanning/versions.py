"""Version ordering of each ecosystem the scanner matches advisories in.

Advisory ranges are only as right as the comparison behind them: ``1:1.0`` is
newer than ``2.0`` for dpkg (epochs), ``1.0~rc1`` older than ``1.0`` (tildes),
``1.2_rc1`` older than ``1.2`` for apk, ``1.0rc1`` older than ``1.0`` for PEP 440.
Each function returns a negative number, zero, or a positive number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cmp_to_key

from packaging.version import InvalidVersion, Version

Compare = Callable[[str, str], int]


class UnknownVersion(ValueError):
    """A version string this ecosystem cannot order."""


# -- dpkg (deb-version(7)) ----------------------------------------------------

def _dpkg_order(ch: str) -> int:
    # dpkg's order(): '~' before everything, even the end of the string;
    # letters before any other non-digit.
    if ch == "~":
        return -1
    if ch.isdigit() or not ch:
        return 0
    if ch.isalpha():
        return ord(ch)
    return ord(ch) + 256


def _verrevcmp(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _dpkg_order(a[i]) if i < len(a) else 0
            bc = _dpkg_order(b[j]) if j < len(b) else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        first_diff = 0
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def _dpkg_parts(version: str) -> tuple[int, str, str]:
    version = version.strip()
    if not version:
        raise UnknownVersion("empty dpkg version")
    epoch = 0
    if ":" in version:
        head, version = version.split(":", 1)
        if not head.isdigit():
            raise UnknownVersion(f"bad epoch in {head!r}")
        epoch = int(head)
    upstream, sep, revision = version.rpartition("-")
    if not sep:
        upstream, revision = version, ""
    if not upstream or not upstream[0].isdigit():
        raise UnknownVersion(f"dpkg upstream version must start with a digit: {version!r}")
    return epoch, upstream, revision


def dpkg_compare(a: str, b: str) -> int:
    """Order two Debian package versions like ``dpkg --compare-versions``."""
    ea, ua, ra = _dpkg_parts(a)
    eb, ub, rb = _dpkg_parts(b)
    if ea != eb:
        return ea - eb
    return _verrevcmp(ua, ub) or _verrevcmp(ra, rb)


# -- apk (apk-tools' version.c) ----------------------------------------------

_APK = re.compile(
    r"^(?P<nums>\d+(?:\.\d+)*)(?P<letter>[a-z]?)"
    r"(?P<suffixes>(?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*)"
    r"(?:-r(?P<rev>\d+))?$")
_APK_SUFFIX = re.compile(r"_(alpha|beta|pre|rc|cvs|svn|git|hg|p)(\d*)")
# Pre-release suffixes sort before the bare version, post-release ones after.
_APK_SUFFIX_RANK = {"alpha": -4, "beta": -3, "pre": -2, "rc": -1,
                    "cvs": 1, "svn": 2, "git": 3, "hg": 4, "p": 5}
# Token kinds in apk's order; when two versions differ in kind at the same
# position, the one with the *higher* kind is the smaller version.
_DIGIT, _LETTER, _SUFFIX, _SUFFIX_NO, _REVISION, _END = range(6)


def _apk_tokens(version: str) -> list[tuple[int, object]]:
    m = _APK.match(version.strip())
    if m is None:
        raise UnknownVersion(f"not an apk version: {version!r}")
    tokens: list[tuple[int, object]] = []
    for pos, num in enumerate(m["nums"].split(".")):
        # apk compares a later component with a leading zero as a decimal
        # fraction (1.01 < 1.1), i.e. as a string.
        if pos and num.startswith("0"):
            tokens.append((_DIGIT, (0, num)))
        else:
            tokens.append((_DIGIT, (1, int(num))))
    if m["letter"]:
        tokens.append((_LETTER, m["letter"]))
    for name, num in _APK_SUFFIX.findall(m["suffixes"]):
        tokens.append((_SUFFIX, _APK_SUFFIX_RANK[name]))
        if num:
            tokens.append((_SUFFIX_NO, int(num)))
    if m["rev"] is not None:
        tokens.append((_REVISION, int(m["rev"])))
    tokens.append((_END, 0))
    return tokens


def _cmp(a: object, b: object) -> int:
    return (a > b) - (a < b)  # type: ignore[operator]


def apk_compare(a: str, b: str) -> int:
    """Order two Alpine package versions like ``apk version -t``."""
    ta, tb = _apk_tokens(a), _apk_tokens(b)
    for (ka, va), (kb, vb) in zip(ta, tb, strict=False):
        if ka != kb:
            # A pre-release suffix makes a version smaller than whatever the
            # other one has at that place; otherwise the longer one is newer.
            if ka == _SUFFIX and isinstance(va, int) and va < 0:
                return -1
            if kb == _SUFFIX and isinstance(vb, int) and vb < 0:
                return 1
            return -1 if ka > kb else 1
        if ka == _END:
            return 0
        result = _cmp(va, vb)
        if result:
            return result
    return 0


# -- PEP 440 ------------------------------------------------------------------

def pep440_compare(a: str, b: str) -> int:
    """Order two Python distribution versions (PEP 440)."""
    try:
        va, vb = Version(a), Version(b)
    except InvalidVersion as exc:
        raise UnknownVersion(str(exc)) from exc
    return _cmp(va, vb)


COMPARATORS: dict[str, Compare] = {
    "deb": dpkg_compare,
    "apk": apk_compare,
    "pypi": pep440_compare,
}


def sort_key(kind: str) -> Callable[[str], object]:
    """A ``sorted(key=...)`` for versions of one package kind."""
    return cmp_to_key(COMPARATORS[kind])
