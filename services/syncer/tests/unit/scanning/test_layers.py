"""Layers stacked in order: whiteouts, opaque directories, streaming."""

from __future__ import annotations

import io
import sys
import tarfile
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from berth.syncer.scanning.layers import LayerWalker, UnreadableLayer, normalize

sys.path.insert(0, str(Path(__file__).parent))
from scan_fixtures import (
    apk_installed,
    dpkg_status,
    os_release,
    python_metadata,
    tar_bytes,
)

SITE = "usr/lib/python3.11/site-packages"


def stack(*layers: dict[str, bytes | None]) -> LayerWalker:
    walker = LayerWalker()
    for files in layers:
        walker.apply(io.BytesIO(tar_bytes(files)))
    return walker


def packages(walker: LayerWalker) -> set[tuple[str, str, str]]:
    return {(p.kind, p.name, p.version) for p in walker.inventory().packages}


def test_an_upgrade_in_a_later_layer_replaces_the_version():
    walker = stack({"var/lib/dpkg/status": dpkg_status(("openssl", "3.0.9-1"))},
                   {"var/lib/dpkg/status": dpkg_status(("openssl", "3.0.11-1"))})
    assert packages(walker) == {("deb", "openssl", "3.0.11-1")}


def test_a_whiteout_removes_a_package_database():
    walker = stack({"lib/apk/db/installed": apk_installed(("busybox", "1.36.1-r0"))},
                   {"lib/apk/db/.wh.installed": b""})
    assert packages(walker) == set()


def test_a_whiteout_of_a_directory_removes_what_is_under_it():
    walker = stack({f"{SITE}/requests-2.0.0.dist-info/METADATA":
                    python_metadata("requests", "2.0.0")},
                   {"usr/lib/.wh.python3.11": b""})
    assert packages(walker) == set()


def test_an_opaque_directory_hides_lower_layers_but_not_its_own_entries():
    walker = stack(
        {f"{SITE}/old-1.0.dist-info/METADATA": python_metadata("old", "1.0"),
         "usr/lib/other/x.egg-info/PKG-INFO": python_metadata("kept", "3.0")},
        {f"{SITE}/.wh..wh..opq": b"",
         f"{SITE}/new-2.0.dist-info/METADATA": python_metadata("new", "2.0")})
    assert packages(walker) == {("pypi", "new", "2.0"), ("pypi", "kept", "3.0")}


def test_a_whiteout_hides_lower_layers_only():
    # The same layer whites the old database out and writes a new one.
    walker = stack({"var/lib/dpkg/status": dpkg_status(("bash", "5.1-2"))},
                   {"var/lib/dpkg/.wh.status": b"",
                    "var/lib/dpkg/status": dpkg_status(("bash", "5.2.15-2"))})
    assert packages(walker) == {("deb", "bash", "5.2.15-2")}


def test_a_file_replacing_a_directory_hides_its_content():
    walker = stack({f"{SITE}/a-1.0.dist-info/METADATA": python_metadata("a", "1.0")},
                   {SITE: b"not a directory any more"})
    assert packages(walker) == set()


def test_removed_status_entries_and_md5sums_of_distroless_images():
    walker = stack({"var/lib/dpkg/status.d/base": dpkg_status(("base-files", "12.4")),
                    "var/lib/dpkg/status.d/libc6": dpkg_status(("libc6", "2.36-9")),
                    "var/lib/dpkg/status.d/libc6.md5sums": b"abc  lib/x\n"},
                   {"var/lib/dpkg/status.d/.wh.libc6": b""})
    assert packages(walker) == {("deb", "base-files", "12.4")}


def test_only_installed_dpkg_packages_count_and_sources_are_kept():
    text = dpkg_status(("libssl3", "3.0.11-1"), source={"libssl3": "openssl"})
    text += b"\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n"
    inv = stack({"var/lib/dpkg/status": text}).inventory()
    [pkg] = inv.packages
    assert (pkg.name, pkg.source, pkg.version) == ("libssl3", "openssl", "3.0.11-1")


def test_os_release_and_leading_dot_slash_names():
    walker = stack({"./etc/os-release": os_release("alpine", "3.18.4"),
                    "./lib/apk/db/installed": apk_installed(("musl", "1.2.4-r2"))})
    inv = walker.inventory()
    assert (inv.os_id, inv.os_version) == ("alpine", "3.18.4")
    assert packages(walker) == {("apk", "musl", "1.2.4-r2")}
    assert normalize("./a/../b/") == "b" and normalize("/") == ""


def test_a_layer_that_is_not_a_tar_archive_is_refused():
    with pytest.raises(UnreadableLayer):
        LayerWalker().apply(io.BytesIO(b"\x28\xb5\x2f\xfd" + b"zstd frame" * 100))


class GeneratedStream(io.RawIOBase):
    """A read-only stream fed by a generator of chunks (nothing kept)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.pending = b""
        self.produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self.pending:
            try:
                self.pending = next(self.chunks)
            except StopIteration:
                return 0
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        self.produced += n
        return n


def big_gzip_layer(size: int, tail: dict[str, bytes]) -> Iterator[bytes]:
    """gzip(tar) of a ``size``-byte file of zeros then ``tail``, made on the fly."""
    gz = zlib.compressobj(1, zlib.DEFLATED, 31)
    info = tarfile.TarInfo("opt/big.bin")
    info.size = size
    yield gz.compress(info.tobuf(tarfile.PAX_FORMAT))
    zeros = bytes(1024 * 1024)
    left = size
    while left:
        n = min(left, len(zeros))
        yield gz.compress(zeros[:n])
        left -= n
    yield gz.compress(bytes(-size % 512))
    rest = tar_bytes(tail)
    yield gz.compress(rest)
    yield gz.flush()


def test_a_200_mb_layer_is_streamed_with_bounded_memory():
    size = 200 * 1024 * 1024
    stream = GeneratedStream(big_gzip_layer(
        size, {"var/lib/dpkg/status": dpkg_status(("zlib1g", "1:1.2.13.dfsg-1"))}))
    tracemalloc.start()
    try:
        walker = LayerWalker()
        walker.apply(io.BufferedReader(stream, 64 * 1024))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert packages(walker) == {("deb", "zlib1g", "1:1.2.13.dfsg-1")}
    assert stream.produced > 100_000  # the compressed layer really went through
    assert peak < 16 * 1024 * 1024, f"peak {peak} bytes for a {size}-byte layer"
