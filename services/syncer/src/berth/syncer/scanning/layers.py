"""Walk an image's layers in order, streamed, honouring whiteouts.

Only the files that feed the inventory are kept (parsed, not raw), so memory
is bounded by those files, never by a layer's size. A layer is read once,
front to back, straight from the HTTP response (``tarfile`` in stream mode).
"""

from __future__ import annotations

import posixpath
import tarfile
from typing import IO

import structlog
from berth.syncer.scanning.inventory import (
    OS_RELEASE,
    Inventory,
    Package,
    is_interesting,
    parse_file,
)

log = structlog.get_logger(__name__)
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
Parsed = list[Package] | dict[str, str]


class UnreadableLayer(Exception):
    """A layer that is not a (gzip, bzip2 or xz compressed) tar archive."""


def normalize(name: str) -> str:
    """A tar member name as a path relative to the root (no ``./``, no ``/``)."""
    path = posixpath.normpath("/" + name).lstrip("/")
    return "" if path == "." else path


def _ancestors(path: str) -> list[str]:
    out = []
    while path:
        path = posixpath.dirname(path)
        out.append(path)
    return out  # ends with "" (the root)


class LayerWalker:
    """The merged view of the interesting files of the layers applied so far."""

    def __init__(self, max_file_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_file_bytes = max_file_bytes
        self.files: dict[str, Parsed] = {}
        self.layers = 0

    def apply(self, stream: IO[bytes]) -> None:
        """Read one layer (compressed or not) from ``stream`` and stack it."""
        # Only paths that can hide something we hold need remembering: the
        # held paths and their ancestors. Keeps memory flat on huge layers.
        watched = set(self.files)
        for path in self.files:
            watched.update(_ancestors(path))
        added: dict[str, Parsed] = {}
        removed: set[str] = set()
        opaque: set[str] = set()
        replaced: set[str] = set()
        try:
            tar = tarfile.open(fileobj=stream, mode="r|*")  # noqa: SIM115 - closed below
        except tarfile.TarError as exc:
            raise UnreadableLayer(str(exc)) from exc
        try:
            while True:
                try:
                    member = tar.next()
                except tarfile.TarError as exc:
                    raise UnreadableLayer(str(exc)) from exc
                if member is None:
                    break
                tar.members.clear()  # type: ignore[attr-defined]  # stream mode keeps every header
                self._entry(tar, member, added, removed, opaque, replaced, watched)
        finally:
            tar.close()
        self._stack(added, removed, opaque, replaced)
        self.layers += 1

    def _entry(self, tar: tarfile.TarFile, member: tarfile.TarInfo,
               added: dict[str, Parsed], removed: set[str], opaque: set[str],
               replaced: set[str], watched: set[str]) -> None:
        path = normalize(member.name)
        base, parent = posixpath.basename(path), posixpath.dirname(path)
        if base == OPAQUE:
            opaque.add(parent)
            return
        if base.startswith(WHITEOUT):
            target = posixpath.join(parent, base[len(WHITEOUT):])
            if target in watched:
                removed.add(target)
            return
        if not member.isdir() and path in watched:
            replaced.add(path)  # a file where a lower layer had a file or a directory
        if not member.isfile() or not is_interesting(path):
            return
        if member.size > self.max_file_bytes:
            log.warning("scan_file_too_large", path=path, size=member.size)
            return
        handle = tar.extractfile(member)
        if handle is not None:
            added[path] = parse_file(path, handle.read())

    def _stack(self, added: dict[str, Parsed], removed: set[str], opaque: set[str],
               replaced: set[str]) -> None:
        # Whiteouts and opaque directories hide lower layers only, never
        # entries of the layer that carries them.
        for path in list(self.files):
            ancestors = _ancestors(path)
            if (path in removed or path in replaced
                    or any(a in removed or a in replaced or a in opaque
                           for a in ancestors)):
                del self.files[path]
        self.files.update(added)

    def inventory(self) -> Inventory:
        """The packages and OS of the image as stacked so far."""
        inv = Inventory()
        for path in sorted(self.files):
            parsed = self.files[path]
            if isinstance(parsed, list):
                inv.packages.extend(parsed)
        for path in OS_RELEASE:
            found = self.files.get(path)
            if isinstance(found, dict):
                inv.os_release = found
                break
        return inv
