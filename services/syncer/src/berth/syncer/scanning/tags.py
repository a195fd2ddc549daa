"""Which image a catalog tag is: asked of the catalog with the caller's own
credentials, so what the caller may see is decided there and nowhere else."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from berth.common.auth import INTERNAL_HEADER
from berth.common.errors import Unauthorized, Unavailable
from berth.common.http import make_session
from berth.syncer.registries import RegistryDirectory
from berth.syncer.scanning.errors import TagUnknown

FORWARDED = ("Authorization", "Portus-Auth", INTERNAL_HEADER)


@dataclass(frozen=True)
class TagRef:
    """A catalog tag and the image it points at."""

    id: int
    name: str
    digest: str
    repository: str
    registry: str      # the registry's service name


class TagResolver(Protocol):
    """Maps a catalog tag id to its image, as the caller may see it."""

    def resolve(self, tag_id: int, credentials: Mapping[str, str]) -> TagRef:
        """The tag, or TagUnknown (missing or not visible), Unauthorized, Unavailable."""


class CatalogTags:
    """``GET /api/v1/tags/:id`` then ``GET /api/v1/repositories/:id`` on the catalog."""

    def __init__(self, catalog_url: str, directory: RegistryDirectory) -> None:
        self.base = catalog_url.rstrip("/")
        self.directory = directory
        self.http = make_session(timeout=(2.0, 10.0), retries=1)

    def _get(self, path: str, headers: Mapping[str, str]) -> dict[str, Any]:
        try:
            resp = self.http.get(self.base + path, headers=dict(headers))
        except requests.RequestException as exc:
            raise Unavailable("the catalog is unreachable") from exc
        if resp.status_code == 401:
            raise Unauthorized("authentication required")
        if resp.status_code in (403, 404):
            raise TagUnknown("tag not found")
        if resp.status_code != 200:
            raise Unavailable(f"the catalog answered {resp.status_code}")
        try:
            body = resp.json()
        except ValueError as exc:
            raise Unavailable("the catalog answered something unreadable") from exc
        if not isinstance(body, dict):
            raise Unavailable("the catalog answered something unreadable")
        return body

    def resolve(self, tag_id: int, credentials: Mapping[str, str]) -> TagRef:
        """The tag's digest, repository name and registry service."""
        headers = {k: v for k, v in credentials.items() if k in FORWARDED}
        tag = self._get(f"/api/v1/tags/{tag_id}", headers)
        repo = self._get(f"/api/v1/repositories/{int(tag['repository_id'])}", headers)
        hostname = str(repo.get("registry_hostname") or "")
        service = next((r.service for r in self.directory.all() if r.hostname == hostname),
                       None)
        if service is None and self.directory.default is not None:
            service = self.directory.default.service
        return TagRef(id=int(tag["id"]), name=str(tag["name"]), digest=str(tag["digest"]),
                      repository=str(repo["full_name"]), registry=service or hostname)
