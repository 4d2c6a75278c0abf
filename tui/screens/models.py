"""The model manager: catalog pairs and their state, downloads, choosing the active pair, or two
local GGUF files by path."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, ProgressBar, Static

from ..engine import ModelSpec
from ..pairs import PairRow, human_bytes, pair_rows, progress_text


@dataclass
class _Progress(Message):
    progress: Any


@dataclass
class _DownloadEnded(Message):
    pair: str
    error: str | None


class ModelsScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("enter", "use", "Use pair"),
        Binding("d", "download", "Download"),
        Binding("x", "cancel_download", "Cancel download"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[PairRow] = []
        self._cancel: threading.Event | None = None

    def compose(self) -> ComposeResult:
        yield Static("Models", classes="panel-title")
        yield Static("", id="models-active")
        yield DataTable(id="pairs", cursor_type="row", zebra_stripes=True)
        with Vertical(id="download-box"):
            yield Label("", id="download-label")
            yield ProgressBar(id="download-bar", show_eta=False)
        yield Label("Or load two local GGUF files:", classes="section")
        with Horizontal(id="paths"):
            yield Input(placeholder="base model .gguf", id="base-path")
            yield Input(placeholder="nudging (instruct) model .gguf", id="nudging-path")
            yield Button("Load", id="load-paths", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("pair", "base", "nudging", "γ", "state", "on disk", "size")
        self.query_one("#download-box").display = False
        self.reload()
        table.focus()

    def reload(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        try:
            self.rows = pair_rows()
        except Exception as exc:  # e.g. a malformed user models.toml: say so, keep going
            self.rows = []
            self.notify(str(exc), severity="error")
        for row in self.rows:
            table.add_row(row.name, row.base, row.nudging, f"{row.gamma:.2f}", row.state,
                          human_bytes(row.size_on_disk), human_bytes(row.size), key=row.name)
        self.query_one("#models-active", Static).update(
            f"Active: {self.app.model_label} ({self.app.model_state})"
        )

    def _selected(self) -> PairRow | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.rows if r.name == key), None)

    # -- choose -----------------------------------------------------------------------------
    def action_use(self) -> None:
        row = self._selected()
        if row is None:
            return
        if row.state != "present":
            self.notify(f"Pair {row.name} is not fully downloaded; press d to download it.",
                        severity="warning")
            return
        self.app.load_models(ModelSpec(pair=row.name))
        self.app.pop_screen()

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_use()

    @on(Button.Pressed, "#load-paths")
    @on(Input.Submitted, "#nudging-path")
    def _load_paths(self) -> None:
        base = self.query_one("#base-path", Input).value.strip()
        nudging = self.query_one("#nudging-path", Input).value.strip()
        for label, value in (("base", base), ("nudging", nudging)):
            if not value:
                self.notify(f"Enter the {label} model's path.", severity="warning")
                return
            if not Path(value).expanduser().is_file():
                self.notify(f"{value} is not a file.", severity="error")
                return
        spec = ModelSpec(base=str(Path(base).expanduser()), nudging=str(Path(nudging).expanduser()))
        self.app.load_models(spec)
        self.app.pop_screen()

    # -- download ---------------------------------------------------------------------------
    def action_download(self) -> None:
        row = self._selected()
        if row is None:
            return
        if self._cancel is not None:
            self.notify("A download is already running; press x to cancel it.", severity="warning")
            return
        self._cancel = threading.Event()
        self.query_one("#download-box").display = True
        self.query_one("#download-label", Label).update(f"{row.name}: starting…")
        self._download(row.name, self._cancel)

    def action_cancel_download(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self.query_one("#download-label", Label).update("cancelling…")

    @work(thread=True, group="download")
    def _download(self, name: str, cancel: threading.Event) -> None:
        from nudge_local.download import download

        try:
            download(name, progress=lambda p: self.post_message(_Progress(p)), cancel=cancel)
        except Exception as exc:
            self.post_message(_DownloadEnded(name, str(exc) or type(exc).__name__))
        else:
            self.post_message(_DownloadEnded(name, None))

    @on(_Progress)
    def _progress(self, event: _Progress) -> None:
        p = event.progress
        self.query_one("#download-label", Label).update(progress_text(p))
        bar = self.query_one(ProgressBar)
        bar.update(total=p.total or None, progress=p.downloaded)

    @on(_DownloadEnded)
    def _ended(self, event: _DownloadEnded) -> None:
        self._cancel = None
        label = self.query_one("#download-label", Label)
        if event.error:
            label.update(event.error)
            self.notify(event.error, severity="error")
        else:
            label.update(f"{event.pair}: downloaded.")
            self.notify(f"Pair {event.pair} is ready; press Enter to use it.")
        self.reload()
