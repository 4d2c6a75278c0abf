"""One assistant reply: a title line, the Markdown body (streamed), and a stats line."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from ..settings import MODE_LABELS
from .reply_markdown import ReplyMarkdown

RENDER_INTERVAL = 0.06  # seconds between re-renders while streaming (keeps typing responsive)


def stats_text(result: Any) -> str:
    """tokens/s · nudge ratio · nudges · stop reason, from a NudgeResult."""
    stats = result.stats
    parts = [f"{stats.tokens_per_second:.1f} tok/s"]
    if getattr(result, "mode", "nudged") == "nudged":
        parts += [f"nudge ratio {result.nudge_ratio:.0%}", f"{stats.nudges} nudges"]
    parts.append(f"stop: {result.stop_reason}")
    return " · ".join(parts)


def title_text(mode: str, gamma: float | None) -> str:
    title = f"assistant · {MODE_LABELS.get(mode, mode)}"
    if mode == "nudged" and gamma is not None:
        title += f" · γ {gamma:.2f}"
    return title


class ReplyView(Vertical, can_focus=True):
    """Add pieces with ``add_piece`` while streaming, then call ``finish``."""

    BINDINGS = [Binding("c", "copy", "Copy reply")]

    def __init__(self, mode: str = "nudged", gamma: float | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.mode = mode
        self.gamma = gamma
        self.spans: list[tuple[str, str]] = []  # (text, source), merged
        self.done = False
        self.cancelled = False
        self._render_pending = False
        self._status = "generating…"

    def compose(self) -> ComposeResult:
        yield Static(title_text(self.mode, self.gamma), classes="reply-title")
        yield ReplyMarkdown()
        yield Static(self._status, classes="reply-stats")

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.spans)

    @property
    def show_marks(self) -> bool:
        return bool(getattr(self.app, "show_marks", True))

    def add_piece(self, piece: Any) -> None:
        if not piece.text:
            return
        if self.spans and self.spans[-1][1] == piece.source:
            self.spans[-1] = (self.spans[-1][0] + piece.text, piece.source)
        else:
            self.spans.append((piece.text, piece.source))
        if not self._render_pending:
            self._render_pending = True
            self.set_timer(RENDER_INTERVAL, self._render_now)

    def finish(self, result: Any) -> None:
        """Show the final text (the engine's spans are authoritative) and its stats."""
        self.spans = [(s.text, s.source) for s in result.spans]
        self.done = True
        self.cancelled = result.stop_reason == "cancelled"
        self.set_status(stats_text(result) + (" · cancelled" if self.cancelled else ""))
        self.refresh_body()

    def load(self, spans: list[tuple[str, str]], status: str) -> None:
        """Show a stored reply."""
        self.spans = list(spans)
        self.done = True
        self.set_status(status)
        self.refresh_body()

    def fail(self, message: str) -> None:
        self.done = True
        self.set_status(f"error: {message}")
        self.add_class("-error")

    def set_status(self, text: str) -> None:
        self._status = text
        if self.is_mounted:
            self.query_one(".reply-stats", Static).update(text)

    def refresh_body(self) -> None:
        if not self._render_pending:
            self._render_pending = True
            self.call_later(self._render_now)

    async def _render_now(self) -> None:
        self._render_pending = False
        markdown = self.query_one(ReplyMarkdown)
        await markdown.update(markdown.source_for(self.spans, self.show_marks))

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.text)
        self.notify("Reply copied to the clipboard.")
