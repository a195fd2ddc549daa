"""A page's total is counted only when the page cannot tell it."""

from __future__ import annotations

from typing import Any

import pytest
from berth.catalog.services.paging import total_of
from berth.common.web import Page


def page(number: int, per_page: int = 10, all_: bool = False) -> Page:
    return Page(page=number, per_page=per_page, sort_attr="name", descending=False,
                all=all_)


@pytest.mark.parametrize(("case", "pg", "shown", "total", "counted"), [
    ("first_page_not_full_is_everything", page(1), 3, 3, False),
    ("empty_first_page_means_none", page(1), 0, 0, False),
    ("last_page_adds_what_precedes", page(3), 4, 24, False),
    ("full_page_counts", page(1), 10, 57, True),
    ("empty_page_past_the_end_counts", page(9), 0, 57, True),
    ("all_is_everything", page(1, all_=True), 57, 57, False),
])
def test_total_of(case: str, pg: Page, shown: int, total: int, counted: bool) -> None:
    calls: list[int] = []

    def count() -> int:
        calls.append(1)
        return 57

    assert total_of(pg, shown, count) == total, case
    assert bool(calls) == counted, case


def test_tag_and_search_totals_past_the_last_page(world: Any) -> None:
    admin = world.user("root", admin=True)
    for n in range(3):
        world.push("busybox", f"v{n}", "sha256:" + str(n) * 64)
    repo = world.repo_id("busybox")
    for query, total in (("per_page=2&page=1", "3"), ("per_page=2&page=2", "3"),
                         ("per_page=2&page=5", "3"), ("per_page=5", "3")):
        resp = admin.get(f"/api/v1/repositories/{repo}/tags?{query}")
        assert resp.headers["X-Total"] == total, query
    body = admin.get("/api/v1/search?q=busy&per_page=1&page=4").get_json()
    assert body["repositories"] == [] and body["totals"]["repositories"] == 1
    assert admin.get("/api/v1/search?q=busy").get_json()["totals"] == {
        "repositories": 1, "namespaces": 0, "teams": 0}
