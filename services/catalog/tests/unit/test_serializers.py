"""Markdown rendering: one converter per thread, reset between texts."""

from __future__ import annotations

import threading

from berth.catalog.api.serializers import render_markdown


def test_empty_text_renders_nothing() -> None:
    assert render_markdown("") == ""
    assert render_markdown(None) == ""


def test_a_reused_converter_keeps_nothing_from_the_previous_text() -> None:
    fenced = "```\ncode\n```"
    table = "| a |\n|---|\n| 1 |"
    first = [render_markdown(t) for t in (fenced, table, "*x*")]
    assert first[2] == "<p><em>x</em></p>"
    assert "<table>" in first[1] and "<code>code" in first[0]
    assert [render_markdown(t) for t in (fenced, table, "*x*")] == first


def test_unsafe_html_is_stripped() -> None:
    html = render_markdown("<script>alert(1)</script>\n\nhi")
    assert "<script" not in html and "hi" in html


def test_threads_render_side_by_side() -> None:
    texts = [f"# title {i}\n\n*{i}*" for i in range(40)]
    results: dict[int, str] = {}

    def work(i: int) -> None:
        for _ in range(20):
            results[i] = render_markdown(texts[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: f"<h1>title {i}</h1>\n<p><em>{i}</em></p>"
                       for i in range(len(texts))}
