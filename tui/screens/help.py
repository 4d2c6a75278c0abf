"""The keys, from the same table as the bindings and the command palette."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ..commands import COMMANDS, OTHER_KEYS


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Static("nudge-local · keys", classes="panel-title")
            table: DataTable = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns("key", "action")
            for cmd in COMMANDS:
                table.add_row(cmd.key or "ctrl+p", f"{cmd.title}: {cmd.help}")
            for key, what in OTHER_KEYS:
                table.add_row(key, what)
            yield table
            yield Static(
                "Underlined words were written by the nudging model; the rest by the base "
                "model. Gamma is the base model's confidence threshold: where its top-1 "
                "probability is below gamma, the nudging model writes.",
                classes="help-note",
            )

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
