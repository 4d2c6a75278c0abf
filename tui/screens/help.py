"""The keys, from the same table as the bindings and the command palette."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from ..commands import COMMANDS, OTHER_KEYS

KEY_WIDTH = 20


def help_content() -> Content:
    lines: list[Content] = []
    for cmd in COMMANDS:
        key = cmd.key or "palette"
        lines.append(Content.assemble((f"{key:<{KEY_WIDTH}}", "bold"), (cmd.title, "bold"), f" — {cmd.help}"))
    lines.append(Content(""))
    for key, what in OTHER_KEYS:
        lines.append(Content.assemble((f"{key:<{KEY_WIDTH}}", "bold"), what))
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Static("nudge-local · keys  (palette = ctrl+p, then type)", classes="panel-title")
            yield Static(help_content(), id="help-keys")
            yield Static(
                "Underlined words were written by the nudging model; the rest by the base "
                "model. Gamma is the base model's confidence threshold: where its top-1 "
                "probability is below gamma, the nudging model writes.",
                classes="help-note",
            )

    def action_close(self) -> None:
        self.dismiss(None)
