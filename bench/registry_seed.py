"""Seeds a bare registry with N repositories × 4 tags, cheaply.

One layer and one config blob are uploaded once; every other repository gets
them by a cross-repository mount (``POST /v2/<name>/blobs/uploads/?mount=&from=``),
then its four manifests are PUT. Each manifest carries an annotation naming
its repository and tag, so all 4·N manifests have distinct digests while the
storage holds two blobs.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor

import requests
from requests.adapters import HTTPAdapter

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
TAGS = ("latest", "1.0", "1.1", "2.0")
SOURCE = "seed/base"


def repo_name(i: int) -> str:
    """The i-th seeded repository, spread over 20 namespaces like a real registry."""
    return f"ns{i % 20:02d}/repo{i:06d}"


def _session(pool: int) -> requests.Session:
    s = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool, pool_maxsize=pool)
    s.mount("http://", adapter)
    return s


def _upload(http: requests.Session, base: str, repo: str, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    resp = http.post(f"{base}/v2/{repo}/blobs/uploads/", timeout=30)
    resp.raise_for_status()
    location = resp.headers["Location"]
    if location.startswith("/"):
        location = base + location
    sep = "&" if "?" in location else "?"
    http.put(f"{location}{sep}digest={digest}", data=data, timeout=30,
             headers={"Content-Type": "application/octet-stream"}).raise_for_status()
    return digest


def _mount(http: requests.Session, base: str, repo: str, digest: str) -> None:
    resp = http.post(f"{base}/v2/{repo}/blobs/uploads/",
                     params={"mount": digest, "from": SOURCE}, timeout=30)
    if resp.status_code != 201:
        raise RuntimeError(f"mount into {repo} answered {resp.status_code}")


def seed(host: str, count: int, *, start: int = 0, parallelism: int = 8) -> int:
    """Push repositories ``start..count-1`` (4 tags each) to ``host``; return manifests."""
    base = f"http://{host}"
    http = _session(parallelism * 2)
    layer = b"berth-bench-layer\n" * 64
    layer_digest = _upload(http, base, SOURCE, layer)
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [layer_digest]}}
                        ).encode()
    config_digest = _upload(http, base, SOURCE, config)

    def one(i: int) -> int:
        repo = repo_name(i)
        _mount(http, base, repo, layer_digest)
        _mount(http, base, repo, config_digest)
        for tag in TAGS:
            manifest = json.dumps({
                "schemaVersion": 2, "mediaType": MANIFEST_TYPE,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": config_digest, "size": len(config)},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                            "digest": layer_digest, "size": len(layer)}],
                "annotations": {"berth.bench": f"{repo}:{tag}"}}).encode()
            resp = http.put(f"{base}/v2/{repo}/manifests/{tag}", data=manifest,
                            headers={"Content-Type": MANIFEST_TYPE}, timeout=30)
            if resp.status_code != 201:
                raise RuntimeError(f"PUT {repo}:{tag} answered {resp.status_code}")
        return len(TAGS)

    with ThreadPoolExecutor(parallelism) as pool:
        return sum(pool.map(one, range(start, count)))
