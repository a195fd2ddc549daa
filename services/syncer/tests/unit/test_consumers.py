"""The ``syncer`` queue's handler: deletes on request, refreshes registries."""

from __future__ import annotations

from typing import Any

import pytest
from berth.common.consumer import Transient
from berth.common.events.base import Envelope
from berth.common.events.catalog import RegistryUpdated, TagDeleteRequested
from berth.syncer.consumers import make_handler
from berth.syncer.errors import ManifestUnknown, RegistryDown
from berth.syncer.registries import RegistryDirectory

DIGEST = "sha256:" + "d" * 64


class Manifests:
    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.error = error

    def delete(self, registry: str, repository: str, digest: str) -> None:
        self.calls.append((registry, repository, digest))
        if self.error:
            raise self.error


def request(**details: Any) -> Envelope:
    return Envelope.wrap(TagDeleteRequested(entity_id=3, name="1.0", repository="a/b",
                                            registry="reg:5000", details=details),
                         producer="catalog")


def test_delete_requested_deletes_the_digest():
    manifests = Manifests()
    handle = make_handler(manifests, RegistryDirectory(None))  # type: ignore[arg-type]
    assert handle(None, request(digest=DIGEST)) == {"deleted": True}  # type: ignore[arg-type]
    assert manifests.calls == [("reg:5000", "a/b", DIGEST)]


def test_an_already_deleted_manifest_is_done():
    handle = make_handler(Manifests(ManifestUnknown("gone")),  # type: ignore[arg-type]
                          RegistryDirectory(None))
    assert handle(None, request(digest=DIGEST))["deleted"] is False  # type: ignore[arg-type]


def test_a_down_registry_is_transient():
    handle = make_handler(Manifests(RegistryDown("down")),  # type: ignore[arg-type]
                          RegistryDirectory(None))
    with pytest.raises(Transient):
        handle(None, request(digest=DIGEST))  # type: ignore[arg-type]


def test_a_request_without_digest_is_poison():
    handle = make_handler(Manifests(), RegistryDirectory(None))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        handle(None, request())  # type: ignore[arg-type]


def test_registry_changes_refresh_the_directory():
    calls = []

    def fetch() -> list[dict[str, Any]]:
        calls.append(1)
        return []

    directory = RegistryDirectory(None, fetch, min_retry=0)
    handle = make_handler(Manifests(), directory)  # type: ignore[arg-type]
    event = Envelope.wrap(RegistryUpdated(entity_id=1, name="r"), producer="catalog")
    handle(None, event)  # type: ignore[arg-type]
    handle(None, event)  # type: ignore[arg-type]
    assert len(calls) == 2
