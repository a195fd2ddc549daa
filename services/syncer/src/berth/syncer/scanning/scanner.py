"""The scanner interface, and Berth's own offline OSV scanner.

Another backend (a Clair v4 or Trivy server) implements :class:`Scanner`:
it receives the image (manifest and blob streams, with the syncer's registry
credentials) and returns the inventory and the findings.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from berth.syncer.config import SyncerConfig
from berth.syncer.scanning.image import Layer
from berth.syncer.scanning.inventory import Inventory
from berth.syncer.scanning.layers import LayerWalker, UnreadableLayer
from berth.syncer.scanning.osv import AdvisoryDatabase, summarize
from berth.syncer.scanning.sbom import inventory_from_dict, inventory_to_dict

# Layers that are not tar archives (or not ours to download) carry no packages.
SKIPPED_LAYER_TYPES = ("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                       "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip")


class UnsupportedImage(Exception):
    """An image the scanner cannot read (its status becomes ``failed``)."""


class ImageSource(Protocol):
    """What a scanner may read of an image."""

    repository: str
    digest: str

    def manifest(self) -> dict[str, Any]:
        """The image manifest (one platform)."""

    def layers(self, manifest: dict[str, Any]) -> list[Layer]:
        """Its layers, bottom first."""

    def blob(self, digest: str) -> AbstractContextManager[IO[bytes]]:
        """A blob's bytes as a stream."""


@dataclass
class ScanResult:
    """What a scan found."""

    inventory: dict[str, Any]
    findings: list[dict[str, Any]]
    os: str
    summary: dict[str, int] = field(default_factory=dict)


class Scanner(Protocol):
    """A scanning backend."""

    name: str

    def database_version(self) -> str:
        """The advisory database version results are valid for (refreshing it)."""

    def database_info(self) -> dict[str, Any]:
        """Version, size and age of the advisory database."""

    def scan(self, image: ImageSource) -> ScanResult:
        """Inventory and match one image."""

    def rematch(self, inventory: dict[str, Any]) -> ScanResult | None:
        """Match a stored inventory again (None: the backend must rescan)."""


class OsvScanner:
    """Layers streamed through :class:`LayerWalker`, matched against OSV files."""

    name = "osv"

    def __init__(self, database: AdvisoryDatabase,
                 max_file_bytes: int = 64 * 1024 * 1024) -> None:
        self.database = database
        self.max_file_bytes = max_file_bytes

    def database_version(self) -> str:
        """The OSV directory's content digest (reloaded when files changed)."""
        self.database.refresh()
        return self.database.version

    def database_info(self) -> dict[str, Any]:
        """Version (once loaded), document count, last refresh and age; cheap."""
        return self.database.peek()

    def scan(self, image: ImageSource) -> ScanResult:
        """Walk every layer in order and match the final inventory."""
        walker = LayerWalker(self.max_file_bytes)
        manifest = image.manifest()
        for layer in image.layers(manifest):
            if layer.media_type in SKIPPED_LAYER_TYPES:
                continue
            if "zstd" in layer.media_type:
                raise UnsupportedImage(f"zstd layers are not supported ({layer.digest})")
            with image.blob(layer.digest) as stream:
                try:
                    walker.apply(stream)
                except UnreadableLayer as exc:
                    raise UnsupportedImage(f"layer {layer.digest}: {exc}") from exc
        return self._result(walker.inventory())

    def rematch(self, inventory: dict[str, Any]) -> ScanResult:
        """The stored inventory against the current advisories (no download)."""
        return self._result(inventory_from_dict(inventory))

    def _result(self, inventory: Inventory) -> ScanResult:
        self.database.refresh()
        findings = [f.to_dict() for f in self.database.match(inventory)]
        return ScanResult(inventory=inventory_to_dict(inventory), findings=findings,
                          os=inventory.os_name, summary=summarize(findings))


def build_scanner(config: SyncerConfig) -> Scanner:
    """The configured backend (``BERTH_SCANNER``)."""
    return OsvScanner(AdvisoryDatabase(config.osv_dir), config.scan_max_file_bytes)
