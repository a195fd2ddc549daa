"""Sizes, digests and times as pages show them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from berth.webui.formatting import ago, human_size, short_digest, when


@pytest.mark.parametrize(("value", "shown"), [
    (0, "0 B"), (1023, "1023 B"), (1024, "1.0 KB"), (1536, "1.5 KB"),
    (5 * 1024 ** 2, "5.0 MB"), (3 * 1024 ** 3, "3.0 GB"), (None, "—"), ("x", "—"),
])
def test_human_size(value: object, shown: str) -> None:
    assert human_size(value) == shown


@pytest.mark.parametrize(("value", "shown"), [
    ("sha256:" + "0123456789abcdef" * 4, "0123456789ab"), ("", ""), (None, ""),
])
def test_short_digest(value: object, shown: str) -> None:
    assert short_digest(value) == shown


def test_times() -> None:
    now = datetime(2026, 1, 2, 3, 10, tzinfo=UTC)
    assert ago("2026-01-02T03:04:05Z", now) == "5 minutes ago"
    assert ago("2025-12-31T03:10:00+00:00", now) == "2 days ago"
    assert ago(None, now) == "never"
    assert when("2026-01-02T03:04:05Z") == "2026-01-02 03:04 UTC"
    assert when("garbage") == "—"
