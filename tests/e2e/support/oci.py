"""Small OCI images written from Python (no Docker engine here): an OCI layout
directory that skopeo can copy to a registry (``oci:DIR:TAG``)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"


def _blob(layout: Path, data: bytes) -> tuple[str, int]:
    digest = hashlib.sha256(data).hexdigest()
    path = layout / "blobs" / "sha256" / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return f"sha256:{digest}", len(data)


def _layer(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, content in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0)


def build_image(layout: Path, tag: str, layers: list[dict[str, bytes]]) -> str:
    """Write (or add ``tag`` to) an OCI layout; return the manifest digest."""
    layout.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    layer_descs, diff_ids = [], []
    for files in layers:
        data = _layer(files)
        digest, size = _blob(layout, data)
        layer_descs.append({"mediaType": LAYER_TYPE, "digest": digest, "size": size})
        diff_ids.append("sha256:" + hashlib.sha256(gzip.decompress(data)).hexdigest())
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Labels": {"tag": tag}},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    cdigest, csize = _blob(layout, config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST_TYPE,
                           "config": {"mediaType": CONFIG_TYPE, "digest": cdigest,
                                      "size": csize},
                           "layers": layer_descs}).encode()
    mdigest, msize = _blob(layout, manifest)
    index_path = layout / "index.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {
        "schemaVersion": 2, "manifests": []}
    index["manifests"] = [m for m in index["manifests"]
                          if m.get("annotations", {}).get(
                              "org.opencontainers.image.ref.name") != tag]
    index["manifests"].append({
        "mediaType": MANIFEST_TYPE, "digest": mdigest, "size": msize,
        "annotations": {"org.opencontainers.image.ref.name": tag}})
    index_path.write_text(json.dumps(index))
    return mdigest


def simple_image(layout: Path, tag: str, content: str = "hello", layers: int = 1,
                 layer_size: int = 0) -> str:
    """An image of ``layers`` small layers whose content depends on ``content``."""
    return build_image(layout, tag, [
        {f"layer{i}.txt": f"{content}-{i}".encode() + b"\0" * layer_size}
        for i in range(layers)])
