"""The registry directory: default + catalog, merged by service, resilient."""

from __future__ import annotations

from typing import Any

import pytest
from berth.syncer.registries import Registry, RegistryDirectory

DEFAULT = Registry(name="default", service="reg:5000", url="http://127.0.0.1:5000",
                   hostname="reg:5000", notification_secret="s-default")


class Catalog:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.calls = 0
        self.down = False

    def __call__(self) -> list[dict[str, Any]]:
        self.calls += 1
        if self.down:
            raise ConnectionError("catalog down")
        return self.rows


def test_catalog_registries_are_merged_with_the_default_by_service():
    catalog = Catalog([
        {"name": "main", "service": "reg:5000", "url": "", "hostname": "reg:5000",
         "notification_secret": "s-catalog"},
        {"name": "other", "service": "other:5000", "url": "http://127.0.0.1:6000",
         "hostname": "other:5000", "notification_secret": "s-other"},
    ])
    directory = RegistryDirectory(DEFAULT, catalog)
    regs = {r.service: r for r in directory.all()}
    assert regs["reg:5000"].url == "http://127.0.0.1:5000"  # default fills the gap
    assert regs["reg:5000"].name == "main"
    assert directory.by_secret("s-other").service == "other:5000"
    # Both the configured and the catalog's secret identify the default registry.
    assert directory.by_secret("s-default").service == "reg:5000"
    assert directory.by_secret("s-catalog").service == "reg:5000"
    assert directory.by_secret("nope") is None


def test_catalog_down_keeps_the_default_working_and_is_not_hammered():
    catalog = Catalog([])
    catalog.down = True
    directory = RegistryDirectory(DEFAULT, catalog, min_retry=60)
    for _ in range(20):
        assert directory.by_secret("s-default").service == "reg:5000"
        assert directory.by_secret("forged") is None
    assert catalog.calls == 1


def test_the_last_known_list_survives_a_catalog_outage():
    catalog = Catalog([{"service": "other:5000", "url": "http://x",
                        "notification_secret": "s-other"}])
    directory = RegistryDirectory(DEFAULT, catalog, ttl=0, min_retry=0)
    assert directory.get("other:5000") is not None
    catalog.down = True
    assert directory.get("other:5000") is not None


@pytest.mark.parametrize("secret", ["", "s-default "])
def test_near_misses_do_not_match(secret):
    assert RegistryDirectory(DEFAULT).by_secret(secret) is None


def test_repr_hides_the_secret():
    assert "s-default" not in repr(DEFAULT)
