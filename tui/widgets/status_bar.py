"""The line above the conversation: model pair and its state, mode, gamma, and the legend."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from ..settings import MODE_LABELS


class StatusBar(Horizontal):
    pair: reactive[str] = reactive("no model pair")
    state: reactive[str] = reactive("")
    mode: reactive[str] = reactive("nudged")
    gamma: reactive[float] = reactive(0.4)
    show_marks: reactive[bool] = reactive(True)

    def compose(self) -> ComposeResult:
        yield Static(id="status-model")
        yield Static(id="status-settings")
        yield Static(id="legend")

    def _refresh_all(self) -> None:
        if not self.is_mounted:
            return
        model = Content.assemble(("◆ ", "bold"), self.pair, "  ", (self.state, "italic"))
        self.query_one("#status-model", Static).update(model)
        settings = f"mode: {MODE_LABELS.get(self.mode, self.mode)}"
        if self.mode == "nudged":
            settings += f"  γ {self.gamma:.2f}"
        self.query_one("#status-settings", Static).update(settings)
        legend = self.query_one("#legend", Static)
        if self.show_marks:
            legend.update(Content.assemble(("nudging model", "underline"), " / base model"))
        else:
            legend.update("marks off (ctrl+t)")
        legend.set_class(self.show_marks, "-marks")

    def on_mount(self) -> None:
        self._refresh_all()

    def watch_pair(self) -> None:
        self._refresh_all()

    def watch_state(self) -> None:
        self._refresh_all()

    def watch_mode(self) -> None:
        self._refresh_all()

    def watch_gamma(self) -> None:
        self._refresh_all()

    def watch_show_marks(self) -> None:
        self._refresh_all()
