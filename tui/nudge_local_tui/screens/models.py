"""The model manager: catalog pairs, their details and state, downloads, choosing the active
pair, or two local GGUF files by path."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, ProgressBar, Static

from nudge_local.download import DownloadCancelledError, DownloadProgress

from ..engine import ModelSpec
from ..pairs import PairRow, human_bytes, pair_rows, progress_text, row_details

if TYPE_CHECKING:
    from ..app import NudgeApp


@dataclass
class _Progress(Message):
    progress: DownloadProgress


@dataclass
class _DownloadEnded(Message):
    pair: str
    error: str | None
    cancelled: bool = False


class PairsTable(DataTable[str]):
    """The pairs; Enter uses the pair under the cursor (and says so in the footer)."""

    BINDINGS = [Binding("enter", "select_cursor", "Use pair")]


class ModelsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("d", "download", "Download"),
        Binding("x", "cancel_download", "Cancel download"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[PairRow] = []
        self._cancel: threading.Event | None = None
        self._last_progress: DownloadProgress | None = None

    @property
    def nudge_app(self) -> NudgeApp:
        return cast("NudgeApp", self.app)

    def compose(self) -> ComposeResult:
        yield Static("Models", classes="panel-title")
        yield Static("", id="models-active")
        yield PairsTable(id="pairs", cursor_type="row", zebra_stripes=True)
        yield Static("", id="pair-details")
        with Vertical(id="download-box"):
            yield Static("", id="download-label")
            yield ProgressBar(id="download-bar", show_eta=False)
        yield Label("Or load two local GGUF files:", classes="section")
        with Horizontal(id="paths"):
            yield Input(placeholder="base model .gguf", id="base-path")
            yield Input(placeholder="nudging (instruct) model .gguf", id="nudging-path")
            yield Button("Load", id="load-paths", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(PairsTable)
        table.add_columns("pair", "base", "nudging", "γ", "state", "on disk", "size")
        self.query_one("#download-box").display = False
        self.reload()
        table.focus()

    def reload(self) -> None:
        """Re-read the pairs' state, keeping the cursor on the same pair."""
        table = self.query_one(PairsTable)
        selected = self._selected()
        table.clear()
        try:
            self.rows = pair_rows()
        except Exception as exc:  # e.g. a malformed user models.toml: say so, keep going
            self.rows = []
            self.notify(str(exc), severity="error")
        for row in self.rows:
            table.add_row(row.name, row.base, row.nudging, f"{row.gamma:.2f}", row.state,
                          human_bytes(row.size_on_disk), human_bytes(row.size), key=row.name)
        if selected is not None and selected.name in {r.name for r in self.rows}:
            table.move_cursor(row=table.get_row_index(selected.name))
        app = self.nudge_app
        self.query_one("#models-active", Static).update(Content(f"Active: {app.model_label} ({app.model_state})"))
        self._show_details()

    def _selected(self) -> PairRow | None:
        table = self.query_one(PairsTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.rows if r.name == key), None)

    @on(DataTable.RowHighlighted)
    def _show_details(self) -> None:
        row = self._selected()
        text = row_details(row, self.nudge_app.engine.info) if row else ""
        self.query_one("#pair-details", Static).update(Content(text))

    # -- choose -----------------------------------------------------------------------------
    def action_use(self) -> None:
        row = self._selected()
        if row is None:
            return
        if row.state != "present":
            self.notify(f"Pair {row.name} is not fully downloaded; press d to download it.", severity="warning")
            return
        self.nudge_app.load_models(ModelSpec(pair=row.name))
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
        self.nudge_app.load_models(spec)
        self.app.pop_screen()

    # -- download ---------------------------------------------------------------------------
    def _status(self, text: str) -> None:
        self.query_one("#download-label", Static).update(Content(text))

    def action_download(self) -> None:
        row = self._selected()
        if row is None:
            return
        if self._cancel is not None:
            self.notify("A download is already running; press x to cancel it.", severity="warning")
            return
        self._cancel = threading.Event()
        self._last_progress = None
        self.query_one("#download-box").display = True
        self._status(f"{row.name}: starting…")
        self._download(row.name, self._cancel)

    def action_cancel_download(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self._status("cancelling…")

    @work(thread=True, group="download")
    def _download(self, name: str, cancel: threading.Event) -> None:
        from nudge_local.download import download

        def progress(p: DownloadProgress) -> None:
            self.post_message(_Progress(p))

        try:
            download(name, progress=progress, cancel=cancel)
        except DownloadCancelledError as exc:
            self.post_message(_DownloadEnded(name, str(exc), cancelled=True))
        except Exception as exc:
            self.post_message(_DownloadEnded(name, str(exc) or type(exc).__name__))
        else:
            self.post_message(_DownloadEnded(name, None))

    @on(_Progress)
    def _progress(self, event: _Progress) -> None:
        p = self._last_progress = event.progress
        self._status(progress_text(p))
        self.query_one(ProgressBar).update(total=p.total or None, progress=p.downloaded)

    @on(_DownloadEnded)
    def _ended(self, event: _DownloadEnded) -> None:
        self._cancel = None
        if event.cancelled:
            p = self._last_progress
            kept = f" {human_bytes(p.downloaded)} of {p.model} kept; d resumes." if p else " d resumes it."
            self._status(f"Download of {event.pair} cancelled.{kept}")
        elif event.error:
            self._status(event.error)
            self.notify(event.error, severity="error")
        else:
            self._status(f"{event.pair}: downloaded.")
            self.notify(f"Pair {event.pair} is ready; press Enter to use it.")
        self.reload()
