"""f4: the last `nudge-local eval` table for the loaded pair, and the γ it scored best with."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ..eval_link import COLUMNS, last_report, row_cells, suggestion


class EvalScreen(Screen[None]):
    BINDINGS = [Binding("escape,f4", "app.pop_screen", "Back")]

    def __init__(self, pair_label: str) -> None:
        super().__init__()
        self.pair_label = pair_label

    def compose(self) -> ComposeResult:
        yield Static(f"Eval results · {self.pair_label}", classes="panel-title")
        yield Static("", id="eval-summary")
        yield DataTable(id="eval-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        report = last_report(self.pair_label)
        summary = self.query_one("#eval-summary", Static)
        table = self.query_one(DataTable)
        if report is None:
            table.display = False
            summary.update(
                f"No eval of {self.pair_label} yet. Run one in a terminal, e.g.\n"
                f"  nudge-local eval --pair {self.pair_label} --tasks coin_flip,arithmetic --limit 30\n"
                "and its table shows here."
            )
            return
        table.add_columns(*COLUMNS)
        for row in report.table_rows():
            table.add_row(*row_cells(row))
        _, note = suggestion(report)
        done = f"{report.done} of {report.total} answers" + (" (partial run)" if report.partial else "")
        summary.update(f"{done} · {report.path}\n{note}")
        table.focus()
