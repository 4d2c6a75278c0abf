"""Mark the nudging model's words inside rendered Markdown.

The reply is rendered by Textual's Markdown widget, which knows nothing of who wrote what. We
wrap every run of nudging-model text in two rare punctuation characters before parsing; they
survive into each block's rendered text, where ``mark_content`` removes them and styles the
text between them instead. Punctuation, not private-use letters: CommonMark decides whether
``*`` or ``_`` opens emphasis from whether its neighbours are punctuation, and a mark next to a
delimiter must behave like the quote marks models often put there, not like a letter.

Runs are wrapped line by line, after any block syntax that starts the line (list bullets,
heading hashes, quote markers), and code-fence lines are left alone, so a mark never changes
how the Markdown parses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from textual.content import Content

OPEN = "\u2e3e"  # ⸾ WIGGLY VERTICAL LINE (category Po)
CLOSE = "\u2e3f"  # ⸿ CAPITULUM (category Po)
NUDGED_STYLE = ".nudged"  # a component class of ReplyMarkdown; see app.tcss
NUDGED_CODE_STYLE = ".nudged-code"  # inside code blocks: keeps the syntax colours

_BLOCK_PREFIX = re.compile(r"[ \t]*(?:(?:[-*+]|\d{1,9}[.)]|#{1,6}|>)(?:[ \t]+|$))*")
_FENCE = re.compile(r"^[ \t]{0,3}(?:`{3,}|~{3,})")
_FENCE_OR_RULE = re.compile(r"^[ \t]*(?:`{3,}|~{3,}|(?:[-*_][ \t]*){3,}$|\|?[ \t]*:?-+:?[ \t]*\|)")


def _line_runs(spans: Iterable[tuple[str, str]]) -> list[list[tuple[str, bool]]]:
    """Split (text, source) runs into lines of (text, nudged) pieces."""
    lines: list[list[tuple[str, bool]]] = [[]]
    for text, source in spans:
        text = unmark(text)  # a model that writes our mark characters must not confuse us
        parts = text.split("\n")
        for i, part in enumerate(parts):
            if i:
                lines.append([])
            if not part:
                continue
            nudged = source == "nudging"
            line = lines[-1]
            if line and line[-1][1] == nudged:  # one mark per run, however it was streamed
                line[-1] = (line[-1][0] + part, nudged)
            else:
                line.append((part, nudged))
    return lines


def _mark_line(pieces: list[tuple[str, bool]], open_: str = OPEN, close: str = CLOSE) -> str:
    line = "".join(text for text, _ in pieces)
    if not any(nudged for _, nudged in pieces) or _FENCE_OR_RULE.match(line):
        return line
    prefix = _BLOCK_PREFIX.match(line)
    skip = prefix.end() if prefix else 0
    out: list[str] = []
    pos = 0
    for text, nudged in pieces:
        start, end = pos, pos + len(text)
        pos = end
        if not nudged or end <= skip:
            out.append(text)
            continue
        cut = max(0, skip - start)  # leave block syntax outside the mark
        body = text[cut:]
        core = body.strip()
        if not core:
            out.append(text)
            continue
        lead = len(body) - len(body.lstrip())
        out.append(text[: cut + lead] + open_ + core + close + body[lead + len(core) :])
    return "".join(out)


def marked_markdown(spans: Iterable[tuple[str, str]]) -> str:
    """Markdown source with the nudging model's runs wrapped in OPEN/CLOSE."""
    return "\n".join(_mark_line(line) for line in _line_runs(spans))


def portable_marked_markdown(spans: Iterable[tuple[str, str]], open_: str = "<ins>", close: str = "</ins>") -> str:
    """Markdown for other programs (exports): nudged runs wrapped in ``open_``/``close`` (HTML
    ``<ins>`` by default, which Markdown passes through and most renderers underline), except
    inside code blocks, where a tag would show as text."""
    out: list[str] = []
    in_code = False
    for pieces in _line_runs(spans):
        line = "".join(text for text, _ in pieces)
        if _FENCE.match(line):
            in_code = not in_code
            out.append(line)
            continue
        out.append(line if in_code else _mark_line(pieces, open_, close))
    return "\n".join(out)


def strip_marks(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Remove OPEN/CLOSE from ``text``; return the text and the marked (start, end) ranges."""
    out: list[str] = []
    ranges: list[tuple[int, int]] = []
    start: int | None = None
    pos = 0
    for ch in text:
        if ch == OPEN:
            if start is None:
                start = pos
        elif ch == CLOSE:
            if start is not None and pos > start:
                ranges.append((start, pos))
            start = None
        else:
            out.append(ch)
            pos += 1
    if start is not None and pos > start:  # a mark cut by a block boundary runs to its end
        ranges.append((start, pos))
    return "".join(out), ranges


def mark_content(content: Content, style: str = NUDGED_STYLE) -> Content:
    """Remove the marks from rendered ``content`` and style what they enclosed."""
    plain = content.plain
    if OPEN not in plain and CLOSE not in plain:
        return content
    pieces: list[Content] = []
    last = 0
    for i, ch in enumerate(plain):
        if ch in (OPEN, CLOSE):
            if i > last:
                pieces.append(content[last:i])
            last = i + 1
    if last < len(plain):
        pieces.append(content[last:])
    stripped = Content("").join(pieces)
    _, ranges = strip_marks(plain)
    for start, end in ranges:
        stripped = stripped.stylize(style, start, end)
    return stripped


def unmark(text: str) -> str:
    return text.replace(OPEN, "").replace(CLOSE, "")
