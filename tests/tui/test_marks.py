"""Marking the nudging model's words without changing how the Markdown parses."""

from __future__ import annotations

from markdown_it import MarkdownIt
from textual.content import Content

from nudge_local_tui.marks import CLOSE, OPEN, mark_content, marked_markdown, strip_marks, unmark


def _inline(md: str) -> list[tuple[str, str]]:
    return [(c.type, c.content) for t in MarkdownIt("gfm-like").parse(md) if t.type == "inline" for c in t.children]


def _blocks(md: str) -> list[str]:
    return [t.type for t in MarkdownIt("gfm-like").parse(md) if t.type.endswith("_open") or t.type == "fence"]


def test_runs_are_wrapped_and_whitespace_stays_outside():
    md = marked_markdown([("Sure", "nudging"), ("! Here", "nudging"), (" it is", "base"), (" now ", "nudging")])
    assert md == f"{OPEN}Sure! Here{CLOSE} it is {OPEN}now{CLOSE} "


def test_block_syntax_stays_outside_the_marks():
    spans = [("Steps:\n\n", "base"), ("- one", "nudging"), ("\n", "base"), ("1. two", "nudging"),
             ("\n", "base"), ("## Head", "nudging"), ("\n> quote", "nudging")]
    md = marked_markdown(spans)
    assert _blocks(md) == _blocks(unmark(md))
    assert f"- {OPEN}one{CLOSE}" in md and f"1. {OPEN}two{CLOSE}" in md and f"## {OPEN}Head{CLOSE}" in md


def test_code_fences_and_rules_are_left_alone():
    spans = [("```python", "nudging"), ("\nx = 1\n", "base"), ("```", "nudging"), ("\n\n---", "nudging")]
    md = marked_markdown(spans)
    assert md == "```python\nx = 1\n```\n\n---"


def test_emphasis_next_to_a_mark_still_parses():
    md = marked_markdown([("x ", "base"), ("_em_", "nudging"), (" and ", "base"), ("**bold**", "nudging"),
                          ("**b**", "base")])
    types = [t for t, _ in _inline(md)]
    assert types.count("em_open") == 1 and types.count("strong_open") == 2


def test_mark_characters_written_by_a_model_are_dropped():
    assert OPEN not in marked_markdown([(f"a{OPEN}b", "base")])


def test_strip_marks_returns_ranges():
    assert strip_marks(f"ab{OPEN}cd{CLOSE}ef{OPEN}gh") == ("abcdefgh", [(2, 4), (6, 8)])


def test_mark_content_keeps_other_styles():
    content = Content(f"ab{OPEN}cd{CLOSE}ef").stylize("bold", 0, 4)
    marked = mark_content(content)
    assert marked.plain == "abcdef"
    def covered(style):
        return {i for s in marked.spans if s.style == style for i in range(s.start, s.end)}

    assert covered("bold") == {0, 1, 2} and covered(".nudged") == {2, 3}
