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

GAMMA_AND_RATIO = (
    "γ (gamma): where the base model's confidence in its next word is below γ, the nudging model writes.\n"
    "Nudge ratio: the share of a reply's words that the nudging model wrote (the marked ones)."
)


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
    """f1: the keys, and what γ and the nudge ratio mean."""

    BINDINGS = [Binding("escape,f1,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Static("nudge-local · help  (escape closes; palette = ctrl+p, then type)", classes="panel-title")
            yield Static(GAMMA_AND_RATIO, classes="help-note", id="help-gamma")
            yield Static(help_content(), id="help-keys")

    def action_close(self) -> None:
        self.dismiss(None)
