"""The line above the conversation: model pair and its state, mode, gamma, and the legend."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from ..settings import MODE_LABELS


class StatusBar(Widget):
    pair: reactive[str] = reactive("no model pair")
    state: reactive[str] = reactive("")
    mode: reactive[str] = reactive("nudged")
    gamma: reactive[float] = reactive(0.4)
    show_marks: reactive[bool] = reactive(True)

    def left(self) -> Content:
        settings = f"mode: {MODE_LABELS.get(self.mode, self.mode)}"
        if self.mode == "nudged":
            settings += f"  γ {self.gamma:.2f}"
        return Content.assemble(("◆ ", "bold"), (self.pair, "bold"), "  ", (self.state, "italic"), "   ", settings)

    def legend(self) -> Content:
        if self.show_marks:
            return Content.assemble(("nudging model", "$accent underline"), " / base model")
        return Content("marks off (ctrl+t)")

    def render(self) -> Content:
        left, right = self.left(), self.legend()
        gap = max(2, self.size.width - left.cell_length - right.cell_length)
        return Content.assemble(left, " " * gap, right)
