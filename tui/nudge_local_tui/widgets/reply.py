"""One assistant reply: a title line, the Markdown body (streamed), and a stats line.

A reply may be removed from the screen while it is still being written (the user opened
another chat); every method then only updates the reply's own fields, never the DOM.
"""

from __future__ import annotations

from typing import Any, ClassVar

from markdown_it import MarkdownIt
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Static

from nudge_local import NudgeResult, Piece

from ..settings import MODE_LABELS
from ..stats import stats_line
from .chat_item import ChatItem, ItemAction
from .reply_markdown import ReplyMarkdown

RENDER_INTERVAL = 0.06  # seconds between re-renders while streaming (keeps typing responsive)


def result_stats(result: NudgeResult) -> dict[str, Any]:
    """The stats a reply is stored and shown with."""
    stats = result.stats.as_dict()
    stats["nudge_ratio"] = round(result.nudge_ratio, 4)
    return stats


def stats_text(result: NudgeResult) -> str:
    """tokens/s · nudge ratio · nudges · why it ended, from a NudgeResult."""
    return stats_line(result_stats(result), result.mode, result.stop_reason)


def title_text(mode: str, gamma: float | None, dropped: int = 0, edited: bool = False) -> str:
    title = f"assistant · {MODE_LABELS.get(mode, mode)}"
    if mode == "nudged" and gamma is not None:
        title += f" · γ {gamma:.2f}"
    if dropped:
        title += f" · {dropped} earlier message{'s' if dropped != 1 else ''} left out to fit the context"
    if edited:
        title += " · edited"
    return title


def code_blocks(markdown: str) -> list[str]:
    """The code blocks (fenced or indented) of a Markdown text, in order."""
    tokens = MarkdownIt("commonmark").parse(markdown)
    return [t.content for t in tokens if t.type in ("fence", "code_block")]


class ReplyView(Vertical, ChatItem, can_focus=True):
    """Add pieces with ``add_piece`` while streaming, then call ``finish``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *ChatItem.BINDINGS,  # copy, edit, delete
        Binding("k", "copy_code", "Copy code block"),
        Binding("r", "regenerate", "Regenerate"),
    ]

    def __init__(self, mode: str = "nudged", gamma: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mode = mode
        self.gamma = gamma
        self.spans: list[tuple[str, str]] = []  # (text, source), merged
        self.done = False
        self.cancelled = False
        self.dropped = 0
        self.edited = False
        self._render_pending = False
        self._status = "generating…"
        self._next_code_block = 0

    def compose(self) -> ComposeResult:
        yield Static(title_text(self.mode, self.gamma, self.dropped, self.edited), classes="reply-title")
        yield ReplyMarkdown()
        yield Static(self._status, classes="reply-stats")

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.spans)

    @property
    def live(self) -> bool:
        """On screen (mounted, and not removed since: a removed reply keeps is_mounted)."""
        return self.is_mounted and self.is_attached and not self._pruning

    @property
    def marks(self) -> str:
        return str(getattr(self.app, "marks", "underline"))

    def add_piece(self, piece: Piece) -> None:
        if not piece.text:
            return
        if self.spans and self.spans[-1][1] == piece.source:
            self.spans[-1] = (self.spans[-1][0] + piece.text, piece.source)
        else:
            self.spans.append((piece.text, piece.source))
        if not self._render_pending and self.live:
            self._render_pending = True
            self.set_timer(RENDER_INTERVAL, self._render_now)

    def finish(self, result: NudgeResult) -> None:
        """Show the final text (the engine's spans are authoritative) and its stats."""
        self.spans = [(s.text, s.source) for s in result.spans]
        self.done = True
        self.cancelled = result.stop_reason == "cancelled"
        self._status = stats_text(result)  # drawn by the final render (never stats above no text)
        self.refresh_body()

    def load(self, spans: list[tuple[str, str]], status: str) -> None:
        """Show a stored reply."""
        self.spans = list(spans)
        self.done = True
        self.remove_class("-error")
        self.set_status(status)
        self.refresh_body()

    def fail(self, message: str) -> None:
        self.done = True
        self.set_status(f"error: {message}")
        self.add_class("-error")

    @property
    def status(self) -> str:
        return self._status

    def set_status(self, text: str) -> None:
        self._status = text
        if self.live:
            for stats in self.query(".reply-stats").results(Static):
                stats.update(text)

    def set_title(self, dropped: int | None = None, edited: bool | None = None) -> None:
        self.dropped = self.dropped if dropped is None else dropped
        self.edited = self.edited if edited is None else edited
        if self.live:
            for title in self.query(".reply-title").results(Static):
                title.update(title_text(self.mode, self.gamma, self.dropped, self.edited))

    def refresh_body(self) -> None:
        if not self._render_pending and self.live:
            self._render_pending = True
            self.call_later(self._render_now)

    async def _render_now(self) -> None:
        self._render_pending = False
        if not self.live:  # removed (another chat opened) while a render was pending
            return
        final = self.done  # this render shows the final text
        for markdown in self.query(ReplyMarkdown).results(ReplyMarkdown):
            await markdown.update(markdown.source_for(self.spans, self.marks))
        if final and self.live:
            self.set_status(self._status)

    def on_mount(self) -> None:
        if self.spans or self.done:  # filled before it was mounted (a stored reply)
            # Not refresh_body(): during Mount, is_mounted is still False, so `live` is too; the
            # render runs after the mount completes.
            self._render_pending = True
            self.call_later(self._render_now)

    def action_copy_code(self) -> None:
        blocks = code_blocks(self.text)
        if not blocks:
            self.notify("This reply has no code block.")
            return
        index = self._next_code_block % len(blocks)
        self._next_code_block = index + 1
        self.app.copy_to_clipboard(blocks[index])
        self.notify(f"Code block {index + 1} of {len(blocks)} copied (k again for the next).")

    def action_regenerate(self) -> None:
        self.post_message(ItemAction(self, "regenerate"))
