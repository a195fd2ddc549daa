"""Reading an image from the registry: its manifest and streamed blobs.

Uses the syncer's registry client for tokens (the service principal, cached
per scope) and its HTTP pool, but streams blob bodies instead of reading them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import quote

import requests
from berth.syncer.registry_client import (
    MANIFEST_TYPES,
    RegistryClient,
    RegistryDenied,
    RegistryError,
    RegistryNotFound,
    RegistryUnavailable,
    parse_challenge,
)

INDEX_TYPES = ("application/vnd.docker.distribution.manifest.list.v2+json",
               "application/vnd.oci.image.index.v1+json")
MAX_MANIFEST_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Layer:
    """One layer blob of an image manifest."""

    digest: str
    media_type: str
    size: int


def _path(repository: str) -> str:
    return "/".join(quote(part, safe="") for part in repository.split("/"))


class RegistryImage:
    """One image (``repository@digest``) in one registry."""

    def __init__(self, client: RegistryClient, repository: str, digest: str,
                 platform: tuple[str, str] = ("linux", "amd64")) -> None:
        self.client = client
        self.repository = repository
        self.digest = digest
        self.platform = platform
        self.scope = f"repository:{repository}:pull"
        self._token: str | None = None

    def _get(self, url: str, headers: dict[str, str], stream: bool) -> requests.Response:
        hdrs = dict(headers)
        if self._token:
            hdrs["Authorization"] = f"Bearer {self._token}"
        try:
            resp = self.client.http.get(url, headers=hdrs, stream=stream,
                                        allow_redirects=False)
            if resp.status_code == 401:
                resp.close()
                challenge = parse_challenge(resp.headers.get("WWW-Authenticate", ""))
                if challenge is None:
                    raise RegistryDenied("registry refused without a bearer challenge")
                self._token = self.client.tokens.obtain(
                    challenge["realm"], challenge.get("service", ""),
                    challenge.get("scope", self.scope))
                hdrs["Authorization"] = f"Bearer {self._token}"
                resp = self.client.http.get(url, headers=hdrs, stream=stream,
                                            allow_redirects=False)
            if resp.status_code in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                # Storage redirects (S3, GCS) carry their own signature: the
                # registry token must not follow them.
                resp.close()
                resp = self.client.http.get(resp.headers["Location"], stream=stream)
        except requests.RequestException as exc:
            raise RegistryUnavailable(f"GET {url}: {type(exc).__name__}") from exc
        if resp.status_code == 404:
            resp.close()
            raise RegistryNotFound(url)
        if resp.status_code >= 500:
            resp.close()
            raise RegistryUnavailable(f"GET {url}: {resp.status_code}")
        if resp.status_code != 200:
            resp.close()
            raise RegistryError(f"GET {url}: {resp.status_code}")
        return resp

    def _manifest(self, reference: str) -> tuple[str, dict[str, Any]]:
        url = f"{self.client.base_url}/v2/{_path(self.repository)}/manifests/{quote(reference)}"
        resp = self._get(url, {"Accept": ", ".join(MANIFEST_TYPES)}, stream=False)
        if len(resp.content) > MAX_MANIFEST_BYTES:
            raise RegistryError("manifest too large")
        try:
            body = json.loads(resp.content)
        except ValueError as exc:
            raise RegistryError("manifest is not JSON") from exc
        ctype = body.get("mediaType") or resp.headers.get("Content-Type", "")
        return str(ctype).split(";")[0], body

    def manifest(self) -> dict[str, Any]:
        """The image manifest (an index resolves to this platform's image)."""
        ctype, body = self._manifest(self.digest)
        if ctype in INDEX_TYPES or "manifests" in body:
            chosen = self._pick(body.get("manifests") or [])
            ctype, body = self._manifest(chosen)
        if body.get("schemaVersion") != 2 or "layers" not in body:
            raise RegistryError(f"unsupported manifest type {ctype or 'schema 1'}")
        return body

    def _pick(self, entries: list[dict[str, Any]]) -> str:
        os_, arch = self.platform
        images = [e for e in entries if isinstance(e, dict) and e.get("digest")]
        for e in images:
            plat = e.get("platform") or {}
            if plat.get("os") == os_ and plat.get("architecture") == arch:
                return str(e["digest"])
        if not images:
            raise RegistryError("image index without images")
        return str(images[0]["digest"])

    def layers(self, manifest: dict[str, Any]) -> list[Layer]:
        """The manifest's layers, bottom first."""
        return [Layer(str(entry["digest"]), str(entry.get("mediaType", "")),
                      int(entry.get("size") or 0))
                for entry in manifest.get("layers") or []]

    @contextmanager
    def blob(self, digest: str) -> Iterator[IO[bytes]]:
        """The blob's bytes as a stream (never read whole)."""
        url = f"{self.client.base_url}/v2/{_path(self.repository)}/blobs/{quote(digest)}"
        resp = self._get(url, {}, stream=True)
        try:
            resp.raw.decode_content = False  # layers are compressed, not transfer-encoded
            yield resp.raw
        finally:
            resp.close()
