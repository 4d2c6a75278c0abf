"""A Markdown widget that shows which words the nudging model wrote.

Two looks: ``underline`` (accent colour, underlined) and ``subtle`` (a faint background only,
for replies where half the words are nudged). In code blocks the marks never change the text
colour, so syntax highlighting stays readable: underline only, or the faint background.
"""

from __future__ import annotations

from typing import Any

from textual.content import Content, Span
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownBlock, MarkdownFence

from ..marks import NUDGED_CODE_STYLE, NUDGED_STYLE, mark_content, marked_markdown, strip_marks

#: style of nudged text, per marks look: (prose, code)
STYLES = {
    "underline": (NUDGED_STYLE, NUDGED_CODE_STYLE),
    "subtle": (".nudged-subtle", ".nudged-code-subtle"),
}


def _styles_of(block: MarkdownBlock) -> tuple[str, str]:
    markdown = block._markdown_ref()
    look = getattr(markdown, "marks_look", "underline")
    return STYLES.get(look, STYLES["underline"])


def _marked_block(cls: type[MarkdownBlock]) -> type[MarkdownBlock]:
    """A subclass of a Markdown block class that turns marks into styled text."""

    def set_content(self: MarkdownBlock, content: Content) -> None:
        cls.set_content(self, mark_content(content, _styles_of(self)[0]))

    return type(cls.__name__, (cls,), {"set_content": set_content})


class MarkedFence(MarkdownFence):
    """Code blocks are highlighted from their source, so strip the marks before highlighting."""

    @classmethod
    def highlight(cls, code: str, language: str, ansi: bool = False, dark: bool = False) -> Content:
        plain, ranges = strip_marks(code)
        content = super().highlight(plain, language, ansi=ansi, dark=dark)
        for start, end in ranges:
            content = content.stylize(NUDGED_CODE_STYLE, start, min(end, len(content)))
        return content

    def set_content(self, content: Content) -> None:
        code_style = _styles_of(self)[1]
        if code_style != NUDGED_CODE_STYLE:  # highlight() is a classmethod: swap the look here
            spans = [Span(s.start, s.end, code_style) if s.style == NUDGED_CODE_STYLE else s for s in content.spans]
            content = Content(content.plain, spans)
        super().set_content(content)


class ReplyMarkdown(Markdown):
    COMPONENT_CLASSES = {"nudged", "nudged-code", "nudged-subtle", "nudged-code-subtle"}

    BLOCKS = {
        name: (MarkedFence if issubclass(cls, MarkdownFence) else _marked_block(cls))
        for name, cls in Markdown.BLOCKS.items()
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(open_links=False, **kwargs)
        self.marks_look = "underline"

    def source_for(self, spans: list[tuple[str, str]], marks: str) -> str:
        """The Markdown to render for ``marks`` ("underline", "subtle" or "off")."""
        if marks == "off":
            return "".join(text for text, _ in spans)
        self.marks_look = marks
        return marked_markdown(spans)
