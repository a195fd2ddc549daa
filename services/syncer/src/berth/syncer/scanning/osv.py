"""OSV advisories from a local directory, matched against an inventory.

The directory holds OSV JSON documents (any depth; ``osv-refresh`` lays them
out as ``<ecosystem>/<id>.json``). Its version is a digest of every document's
content, so two replicas with the same files agree, and a scan is never
repeated against the database it was already matched with.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cmp_to_key
from pathlib import Path
from typing import Any

import structlog
from berth.syncer.scanning.inventory import Inventory, Package
from berth.syncer.scanning.severity import LEVELS, severity_of
from berth.syncer.scanning.versions import COMPARATORS, UnknownVersion

log = structlog.get_logger(__name__)
REFRESHED_MARK = ".refreshed"
ECOSYSTEM_OF_KIND = {"apk": "Alpine", "pypi": "PyPI"}
_PYPI_NAME = re.compile(r"[-_.]+")


def normalize_name(kind: str, name: str) -> str:
    """The key a package name is matched under (PEP 503 for Python)."""
    if kind == "pypi":
        return _PYPI_NAME.sub("-", name).lower()
    return name


def ecosystem_of(package: Package, inventory: Inventory) -> str:
    """OSV's ecosystem name (without release) for a package of this image."""
    if package.kind == "deb":
        return "Ubuntu" if inventory.os_id == "ubuntu" else "Debian"
    return ECOSYSTEM_OF_KIND[package.kind]


def _release_matches(advisory_ecosystem: str, inventory: Inventory) -> bool:
    # "Debian:12", "Alpine:v3.18", "Ubuntu:22.04:LTS": the release must be
    # the image's when both are known; a bare ecosystem matches every release.
    _, sep, release = advisory_ecosystem.partition(":")
    if not sep or not inventory.os_version:
        return True
    release = release.split(":")[0].removeprefix("v")
    ours = inventory.os_version
    if inventory.os_id == "alpine":
        ours = ".".join(ours.split(".")[:2])
    elif inventory.os_id == "debian":
        ours = ours.split(".")[0]
    return release == ours


@dataclass(frozen=True)
class Finding:
    """One advisory affecting one installed package."""

    id: str
    package: str
    version: str
    fixed_version: str | None
    severity: str
    link: str
    summary: str
    aliases: tuple[str, ...]
    ecosystem: str

    def to_dict(self) -> dict[str, Any]:
        """The API form."""
        return {"id": self.id, "package": self.package, "version": self.version,
                "fixed_version": self.fixed_version, "severity": self.severity,
                "link": self.link, "summary": self.summary,
                "aliases": list(self.aliases), "ecosystem": self.ecosystem}


def _link(doc: dict[str, Any]) -> str:
    for ref in doc.get("references") or []:
        if isinstance(ref, dict) and ref.get("type") in ("ADVISORY", "WEB") and ref.get("url"):
            return str(ref["url"])
    return f"https://osv.dev/vulnerability/{doc['id']}"


def affected_range(version: str, affected: dict[str, Any],
                   compare: Callable[[str, str], int]) -> tuple[bool, str | None]:
    """Whether ``version`` is affected, and the first fixed version above it."""
    hit = version in (affected.get("versions") or [])
    fixes: list[str] = []
    for rng in affected.get("ranges") or []:
        if not isinstance(rng, dict) or rng.get("type") not in ("ECOSYSTEM", "SEMVER"):
            continue  # GIT ranges name commits, not package versions
        try:
            in_range, fixed = _evaluate(version, rng.get("events") or [], compare)
        except UnknownVersion:
            continue
        hit = hit or in_range
        fixes.extend(fixed)
    if not hit:
        return False, None
    above = [f for f in fixes if _safe_gt(compare, f, version)]
    return True, min(above, key=cmp_to_key(compare)) if above else None


def _safe_gt(compare: Callable[[str, str], int], a: str, b: str) -> bool:
    try:
        return compare(a, b) > 0
    except UnknownVersion:
        return False


def _evaluate(version: str, events: list[dict[str, str]],
              compare: Callable[[str, str], int]) -> tuple[bool, list[str]]:
    def value(ev: dict[str, str]) -> str:
        return next(iter(ev.values()))

    def order(a: dict[str, str], b: dict[str, str]) -> int:
        va, vb = value(a), value(b)
        if va == "0" or vb == "0":  # "introduced: 0" is before everything
            return (va != "0") - (vb != "0")
        return compare(va, vb)

    usable = [e for e in events if isinstance(e, dict) and len(e) == 1
              and next(iter(e)) in ("introduced", "fixed", "last_affected")]
    affected = False
    fixes = []
    for ev in sorted(usable, key=cmp_to_key(order)):
        kind, bound = next(iter(ev.items()))
        if kind == "introduced":
            if bound == "0" or compare(version, bound) >= 0:
                affected = True
        elif kind == "fixed":
            fixes.append(bound)
            if compare(version, bound) >= 0:
                affected = False
        elif compare(version, bound) > 0:  # last_affected
            affected = False
    return affected, fixes


class AdvisoryDatabase:
    """The advisories of one directory, reloaded when its files change."""

    def __init__(self, directory: Path, full_check_every: float = 60.0) -> None:
        self.directory = directory
        self.full_check_every = full_check_every
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._dirs: tuple[tuple[str, int], ...] | None = None
        self._checked = -1e9
        self._peeked: tuple[float, tuple[int, int, int], datetime | None] | None = None
        self._index: dict[tuple[str, str], list[tuple[dict[str, Any], dict[str, Any]]]] = {}
        self.version = "empty"
        self.count = 0
        self.updated_at: datetime | None = None

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.rglob("*.json") if p.is_file())

    def _current_stamp(self, files: list[Path]) -> tuple[int, int, int]:
        stats = [p.stat() for p in files]
        return (len(stats), sum(s.st_size for s in stats),
                max((s.st_mtime_ns for s in stats), default=0))

    def _dir_stamp(self) -> tuple[tuple[str, int], ...]:
        # Directories are few (one per ecosystem); their mtimes change when a
        # document is added, removed or an ecosystem is swapped in.
        if not self.directory.is_dir():
            return ()
        dirs = [self.directory, *(p for p in self.directory.rglob("*") if p.is_dir())]
        mark = self.directory / REFRESHED_MARK
        if mark.exists():
            dirs.append(mark)
        return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in dirs))

    def refresh(self) -> bool:
        """Reload when the directory changed; True when it did.

        Called before every scan: stating every document (tens of thousands
        for Debian) happens only when a directory changed or once a minute
        (to catch a document rewritten in place).
        """
        dirs = self._dir_stamp()
        now = time.monotonic()
        if dirs == self._dirs and now - self._checked < self.full_check_every:
            return False
        files = self._files()
        stamp = self._current_stamp(files)
        with self._lock:
            self._dirs, self._checked = dirs, now
            if stamp == self._stamp:
                return False
            index: dict[tuple[str, str], list[tuple[dict[str, Any], dict[str, Any]]]] = (
                defaultdict(list))
            digest = hashlib.sha256()
            count = 0
            for path in files:
                raw = path.read_bytes()
                digest.update(hashlib.sha256(raw).digest())
                try:
                    doc = json.loads(raw)
                except ValueError:
                    log.warning("osv_document_unreadable", path=str(path))
                    continue
                if not isinstance(doc, dict) or not doc.get("id") or doc.get("withdrawn"):
                    continue
                count += 1
                for affected in doc.get("affected") or []:
                    pkg = affected.get("package") if isinstance(affected, dict) else None
                    if not isinstance(pkg, dict):
                        continue
                    eco = str(pkg.get("ecosystem", ""))
                    base = eco.split(":")[0]
                    kind = "pypi" if base == "PyPI" else ""
                    name = normalize_name(kind, str(pkg.get("name", "")))
                    index[(base, name)].append((doc, affected))
            self._index = dict(index)
            self.count = count
            self.version = digest.hexdigest()[:16] if count else "empty"
            self.updated_at = self._refreshed_at(stamp[2])
            self._stamp = stamp
        log.info("osv_database_loaded", advisories=count, version=self.version)
        return True

    def _refreshed_at(self, newest_mtime_ns: int) -> datetime | None:
        mark = self.directory / REFRESHED_MARK
        if mark.is_file():
            try:
                return datetime.fromisoformat(mark.read_text().strip()).astimezone(UTC)
            except ValueError:
                pass
        if not newest_mtime_ns:
            return None
        return datetime.fromtimestamp(newest_mtime_ns / 1e9, UTC)

    def peek(self, max_age: float = 15.0) -> dict[str, Any]:
        """Size and age from the files alone (nothing is parsed; what API
        requests show, so remembered for ``max_age`` seconds)."""
        now = time.monotonic()
        cached = self._peeked
        if cached is None or now - cached[0] >= max_age:
            stamp = self._current_stamp(self._files())
            cached = self._peeked = (now, stamp, self._refreshed_at(stamp[2]))
        _, stamp, updated = cached
        return {"version": self.version if stamp == self._stamp else None,
                "documents": stamp[0], **_age(updated)}

    def info(self) -> dict[str, Any]:
        """Version, size and age, for the API and logs."""
        return {"version": self.version, "advisories": self.count,
                **_age(self.updated_at)}

    def match(self, inventory: Inventory) -> list[Finding]:
        """Every advisory affecting a package of ``inventory``."""
        found: dict[tuple[str, str], Finding] = {}
        for pkg in inventory.packages:
            eco = ecosystem_of(pkg, inventory)
            names = {normalize_name(pkg.kind, pkg.name)}
            if pkg.source:
                names.add(pkg.source)
            compare = COMPARATORS[pkg.kind]
            for name in sorted(names):
                for doc, affected in self._index.get((eco, name), []):
                    if not _release_matches(str(affected["package"].get("ecosystem", "")),
                                            inventory):
                        continue
                    hit, fixed = affected_range(pkg.version, affected, compare)
                    key = (str(doc["id"]), pkg.name)
                    if hit and key not in found:
                        found[key] = Finding(
                            id=str(doc["id"]), package=pkg.name, version=pkg.version,
                            fixed_version=fixed, severity=severity_of(doc, affected),
                            link=_link(doc), summary=str(doc.get("summary") or "")[:500],
                            aliases=tuple(str(a) for a in doc.get("aliases") or []),
                            ecosystem=str(affected["package"].get("ecosystem", "")))
        rank = {level: i for i, level in enumerate(LEVELS)}
        return sorted(found.values(), key=lambda f: (rank[f.severity], f.package, f.id))


def _age(updated: datetime | None) -> dict[str, Any]:
    if updated is None:
        return {"updated_at": None, "age_seconds": None}
    return {"updated_at": updated.isoformat(timespec="seconds"),
            "age_seconds": int((datetime.now(UTC) - updated).total_seconds())}


def summarize(findings: list[Finding] | list[dict[str, Any]]) -> dict[str, int]:
    """Counts by severity level (every level present, plus ``total``)."""
    counts = dict.fromkeys(LEVELS, 0)
    for f in findings:
        level = f.severity if isinstance(f, Finding) else str(f.get("severity"))
        counts[level if level in counts else "Unknown"] += 1
    counts["total"] = len(findings)
    return counts
