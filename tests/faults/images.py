"""The images a push stream pushes: one OCI layout whose tags all share one
layer and one config, each tag's manifest made distinct by an annotation. The
registry holds the shared blobs after the first push, so every later push
uploads only its manifest, yet each tag still has a digest of its own."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.e2e.support.oci import MANIFEST_TYPE, build_image

REF_NAME = "org.opencontainers.image.ref.name"


def tagged_images(layout: Path, tags: list[str], marker: str) -> dict[str, str]:
    """Write ``layout`` holding every tag of ``tags``; tag -> manifest digest."""
    base = build_image(layout, "base", [{"marker.txt": marker.encode()}])
    blobs = layout / "blobs" / "sha256"
    manifest = json.loads((blobs / base.split(":", 1)[1]).read_bytes())
    entries, digests = [], {}
    for tag in tags:
        data = json.dumps({**manifest, "annotations": {
            "berth.test.tag": f"{marker}:{tag}"}}).encode()
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        digests[tag] = f"sha256:{digest}"
        entries.append({"mediaType": MANIFEST_TYPE, "digest": digests[tag],
                        "size": len(data), "annotations": {REF_NAME: tag}})
    (layout / "index.json").write_text(json.dumps(
        {"schemaVersion": 2, "manifests": entries}))
    return digests
