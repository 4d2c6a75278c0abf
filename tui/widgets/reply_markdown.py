"""A Markdown widget that shows which words the nudging model wrote."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownBlock, MarkdownFence

from ..marks import NUDGED_STYLE, mark_content, marked_markdown, strip_marks


def _marked_block(cls: type[MarkdownBlock]) -> type[MarkdownBlock]:
    """A subclass of a Markdown block class that turns marks into styled text."""

    def set_content(self: MarkdownBlock, content: Content) -> None:
        cls.set_content(self, mark_content(content))

    return type(cls.__name__, (cls,), {"set_content": set_content})


class MarkedFence(MarkdownFence):
    """Code blocks are highlighted from their source, so strip the marks before highlighting."""

    @classmethod
    def highlight(cls, code: str, language: str, ansi: bool = False, dark: bool = False) -> Content:
        plain, ranges = strip_marks(code)
        content = super().highlight(plain, language, ansi=ansi, dark=dark)
        for start, end in ranges:
            content = content.stylize(NUDGED_STYLE, start, min(end, len(content)))
        return content


class ReplyMarkdown(Markdown):
    COMPONENT_CLASSES = {"nudged"}

    BLOCKS = {
        name: (MarkedFence if issubclass(cls, MarkdownFence) else _marked_block(cls))
        for name, cls in Markdown.BLOCKS.items()
    }

    def __init__(self, **kwargs) -> None:
        super().__init__(open_links=False, **kwargs)
        self._spans: list[tuple[str, str]] = []

    def source_for(self, spans: list[tuple[str, str]], show_marks: bool) -> str:
        if show_marks:
            return marked_markdown(spans)
        return "".join(text for text, _ in spans)
