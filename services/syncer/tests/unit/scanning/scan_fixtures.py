"""Test images with real package-manager metadata, and OSV documents in
OSV's schema (https://ossf.github.io/osv-schema/)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"


def dpkg_status(*packages: tuple[str, str], source: dict[str, str] | None = None) -> bytes:
    """A /var/lib/dpkg/status with these (name, version) installed."""
    stanzas = []
    for name, version in packages:
        lines = [f"Package: {name}", "Status: install ok installed", "Priority: optional",
                 "Architecture: amd64", f"Version: {version}"]
        if source and name in source:
            lines.insert(3, f"Source: {source[name]}")
        lines += ["Description: a package", " with a continuation line"]
        stanzas.append("\n".join(lines))
    return ("\n\n".join(stanzas) + "\n").encode()


def apk_installed(*packages: tuple[str, str]) -> bytes:
    """A /lib/apk/db/installed."""
    blocks = [f"C:Q1abc=\nP:{n}\nV:{v}\nA:x86_64\nS:1000\nI:4096\nT:pkg\no:{n}\n"
              for n, v in packages]
    return "\n".join(blocks).encode()


def python_metadata(name: str, version: str) -> bytes:
    """A dist-info METADATA."""
    return (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            "Summary: a distribution\n\nLong description.\n").encode()


def os_release(os_id: str, version_id: str, pretty: str = "") -> bytes:
    """An /etc/os-release."""
    pretty = pretty or f"{os_id} {version_id}"
    return (f'PRETTY_NAME="{pretty}"\nID={os_id}\nVERSION_ID="{version_id}"\n').encode()


def tar_bytes(files: dict[str, bytes | None]) -> bytes:
    """A tar of ``files``; a value of None makes a directory."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if content is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
                continue
            info.size = len(content)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def _blob(root: Path, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    path = root / "blobs" / "sha256" / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return f"sha256:{digest}"


def write_image(dir: Path, tag: str, layers: list[dict[str, bytes | None]]) -> str:
    """Add a multi-layer image to the OCI layout in ``dir``; its manifest digest."""
    root = Path(dir)
    root.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    tars = [tar_bytes(files) for files in layers]
    blobs = [gzip.compress(t, mtime=0) for t in tars]
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers",
                   "diff_ids": [f"sha256:{hashlib.sha256(t).hexdigest()}" for t in tars]},
    }, sort_keys=True).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": CONFIG_TYPE, "digest": _blob(root, config),
                   "size": len(config)},
        "layers": [{"mediaType": LAYER_TYPE, "digest": _blob(root, b), "size": len(b)}
                   for b in blobs],
    }, sort_keys=True).encode()
    digest = _blob(root, manifest)
    index_path = root / "index.json"
    index = (json.loads(index_path.read_text()) if index_path.exists()
             else {"schemaVersion": 2, "manifests": []})
    index["manifests"] = [
        m for m in index["manifests"]
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
    index["manifests"].append({
        "mediaType": MANIFEST_TYPE, "digest": digest, "size": len(manifest),
        "annotations": {"org.opencontainers.image.ref.name": tag}})
    index_path.write_text(json.dumps(index))
    return digest


def osv_doc(vuln_id: str, ecosystem: str, name: str, *, fixed: str | None = None,
            introduced: str = "0", last_affected: str | None = None,
            versions: list[str] | None = None, severity: str | None = None,
            cvss: str | None = None, aliases: list[str] | None = None) -> dict[str, Any]:
    """One OSV advisory affecting ``name`` in ``ecosystem``."""
    events: list[dict[str, str]] = [{"introduced": introduced}]
    if fixed:
        events.append({"fixed": fixed})
    if last_affected:
        events.append({"last_affected": last_affected})
    affected: dict[str, Any] = {
        "package": {"ecosystem": ecosystem, "name": name},
        "ranges": [{"type": "ECOSYSTEM", "events": events}],
    }
    if versions:
        affected["versions"] = versions
    doc: dict[str, Any] = {
        "schema_version": "1.6.0", "id": vuln_id,
        "modified": "2026-01-02T03:04:05Z", "published": "2026-01-01T00:00:00Z",
        "aliases": aliases or [], "summary": f"{name}: a flaw",
        "details": "A test advisory.", "affected": [affected],
        "references": [{"type": "ADVISORY",
                        "url": f"https://advisories.example.test/{vuln_id}"}],
    }
    if severity:
        doc["database_specific"] = {"severity": severity}
    if cvss:
        doc["severity"] = [{"type": "CVSS_V3", "score": cvss}]
    return doc


def write_osv(directory: Path, *docs: dict[str, Any]) -> None:
    """Write advisories as OSV's exports lay them out (<ecosystem>/<id>.json)."""
    for doc in docs:
        eco = doc["affected"][0]["package"]["ecosystem"].split(":")[0]
        path = directory / eco / f"{doc['id']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc))
