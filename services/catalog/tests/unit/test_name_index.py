"""The suffix index of repository names: every suffix once, lower case, cut."""

from __future__ import annotations

from berth.catalog.models import SUFFIX_LENGTH
from berth.catalog.services.name_index import rows, suffixes


def test_every_suffix_once() -> None:
    assert suffixes("abc") == ["abc", "bc", "c"]
    assert suffixes("aaa") == ["a", "aa", "aaa"]
    assert suffixes("") == []


def test_suffixes_are_lower_case() -> None:
    assert suffixes("Ab") == ["ab", "b"]


def test_long_suffixes_are_cut() -> None:
    name = "x" * (SUFFIX_LENGTH + 10) + "y"
    cut = suffixes(name)
    assert max(len(s) for s in cut) == SUFFIX_LENGTH
    # The first 11 start positions all give 64 x's: one row holds them.
    assert len(cut) == 1 + SUFFIX_LENGTH
    assert "x" * (SUFFIX_LENGTH - 1) + "y" in cut


def test_rows_name_the_repository() -> None:
    assert rows(7, "ab") == [{"repository_id": 7, "suffix": "ab"},
                             {"repository_id": 7, "suffix": "b"}]
