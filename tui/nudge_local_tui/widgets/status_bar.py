"""The line above the conversation: the pair and its state (a spinner and the seconds while it
loads), mode, γ, the context meter, and the marks legend with the models' names."""

from __future__ import annotations

import time

from textual.content import Content
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget

from ..settings import MODE_LABELS

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
MARK_STYLES = {"underline": "$accent underline", "subtle": "on $accent 25%"}


def _thousands(n: int) -> str:
    return f"{n:,}"


class StatusBar(Widget):
    pair: reactive[str] = reactive("no model pair")
    state: reactive[str] = reactive("")
    mode: reactive[str] = reactive("nudged")
    gamma: reactive[float] = reactive(0.4)
    marks: reactive[str] = reactive("underline")
    #: (tokens, context size) of the fuller model's context, None when unknown
    context: reactive[tuple[int, int] | None] = reactive(None)
    #: the models' names (base, nudging), for the legend
    names: reactive[tuple[str, str] | None] = reactive(None)
    #: time.monotonic() when loading started; None when not loading
    loading_since: reactive[float | None] = reactive(None)

    _ticker: Timer | None = None

    def watch_loading_since(self, since: float | None) -> None:
        # A visible heartbeat while a big model loads: the screen must never look frozen.
        if since is not None and self._ticker is None:
            self._ticker = self.set_interval(0.2, self.refresh)
        elif since is None and self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def state_text(self) -> Content:
        if self.loading_since is None:
            return Content.styled(self.state, "italic")
        elapsed = time.monotonic() - self.loading_since
        frame = SPINNER[int(elapsed * 5) % len(SPINNER)]
        return Content.assemble((f"{frame} ", "bold $accent"), (f"{self.state} {elapsed:.0f} s", "italic"))

    def left(self) -> Content:
        settings = f"{MODE_LABELS.get(self.mode, self.mode)}"
        if self.mode == "nudged":
            settings += f" γ {self.gamma:.2f}"
        parts: list[Content | str | tuple[str, str]] = [
            ("◆ ", "bold"), (self.pair, "bold"), "  ", self.state_text(), "   ", settings
        ]
        if self.context is not None:
            used, size = self.context
            style = "$error" if used > 0.9 * size else "$warning" if used > 0.75 * size else ""
            parts += ["   ", (f"context {_thousands(used)}/{_thousands(size)}", style)]
        return Content.assemble(*parts)

    def legend(self, room: int) -> Content:
        if self.marks == "off":
            return Content("marks off (ctrl+t)")
        style = MARK_STYLES.get(self.marks, MARK_STYLES["underline"])
        marked = "underlined" if self.marks == "underline" else "shaded"
        if self.names:
            base, nudging = self.names
            full = Content.assemble((nudging, style), f" {marked} · {base} plain")
            if full.cell_length <= room:
                return full
        return Content.assemble(("nudging model", style), " / base")

    def render(self) -> Content:
        left = self.left()
        right = self.legend(self.size.width - left.cell_length - 2)
        gap = max(2, self.size.width - left.cell_length - right.cell_length)
        return Content.assemble(left, " " * gap, right)
