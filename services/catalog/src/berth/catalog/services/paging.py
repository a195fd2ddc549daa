"""A page's total without a COUNT when the page itself shows it."""

from __future__ import annotations

from collections.abc import Callable

from berth.common.web import Page


def total_of(page: Page, shown: int, count: Callable[[], int]) -> int:
    """The number of rows behind ``page``, which shows ``shown`` of them.

    A page that is not full is the last one, so the total is what precedes it
    plus what it shows; only a full page, or an empty one past the end, needs
    ``count`` (a round trip to the database, and on a large table a scan).
    """
    if page.all:
        return shown
    if shown < page.per_page and (shown > 0 or page.offset == 0):
        return page.offset + shown
    return count()
