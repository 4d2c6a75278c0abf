"""Compare: the last prompt in all three modes, side by side (the paper's point, visible).

Each finished run is kept with its chat (``CompareRecord``) and shown there as a note; a kept
run opens without running again, and ``r`` runs it again at the γ chosen with left/right.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker

from nudge_local import NudgeResult, Piece

from ..settings import GAMMA_STEP, MODES, GenerationSettings
from ..stats import stats_line
from ..store import CompareRecord, StoreError
from ..widgets.reply import ReplyView

if TYPE_CHECKING:
    from ..app import NudgeApp


@dataclass
class _Piece(Message):
    run: int
    mode: str
    piece: Piece


@dataclass
class _Done(Message):
    run: int
    mode: str
    result: NudgeResult


@dataclass
class _Failed(Message):
    run: int
    mode: str
    error: str


class CompareScreen(Screen[list[CompareRecord]]):
    """Dismisses with the compare runs it saved."""

    BINDINGS = [
        Binding("escape", "close", "Stop / back"),
        Binding("left,minus", "gamma(-1)", "γ −", key_display="←"),
        Binding("right,plus", "gamma(1)", "γ +", key_display="→"),
        Binding("r", "run", "Run again at this γ"),
    ]

    def __init__(self, messages: list[dict[str, str]], settings: GenerationSettings, chat_id: int | None = None,
                 message_id: int | None = None, saved: CompareRecord | None = None) -> None:
        super().__init__()
        self.chat_messages = messages
        self.settings = replace(settings, gamma=saved.gamma) if saved else settings
        self.chat_id, self.message_id, self.saved = chat_id, message_id, saved
        self.results: dict[str, NudgeResult] = {}
        self.new_records: list[CompareRecord] = []
        self._stop = threading.Event()
        self._run_number = 0  # pieces of an older run (stopped) are ignored
        self._worker: Worker[None] | None = None

    @property
    def nudge_app(self) -> NudgeApp:
        return cast("NudgeApp", self.app)

    def compose(self) -> ComposeResult:
        prompt = self.chat_messages[-1]["content"] if self.chat_messages else ""
        yield Static(Content.assemble(("Compare · ", "bold"), prompt), id="compare-prompt")
        yield Static("", id="compare-gamma")
        with Horizontal(id="compare-columns"):
            for mode in MODES:
                with VerticalScroll(classes="compare-column"):
                    yield ReplyView(mode, self.settings.gamma, id=f"compare-{mode}")
        yield Footer()

    def on_mount(self) -> None:
        if self.saved is not None:
            self._show_saved(self.saved)
        else:
            self.action_run()

    def _view(self, mode: str) -> ReplyView:
        return self.query_one(f"#compare-{mode}", ReplyView)

    def _show_gamma(self, note: str = "") -> None:
        text = f"γ {self.settings.gamma:.2f}  (left/right change it, r runs again){note}"
        self.query_one("#compare-gamma", Static).update(text)

    def _show_saved(self, record: CompareRecord) -> None:
        self._show_gamma(f" · kept from {record.created_at or 'earlier'}")
        for mode in MODES:
            data: dict[str, Any] = record.results.get(mode, {})
            spans = [(s["text"], s["source"]) for s in data.get("spans", [])]
            stats = dict(data.get("stats", {}), nudge_ratio=data.get("nudge_ratio", 0.0))
            status = stats_line(stats, mode, data.get("stop_reason")) if data else "not run"
            self._view(mode).load(spans, status)

    def action_gamma(self, direction: int) -> None:
        self.settings = self.settings.step_gamma(direction * GAMMA_STEP)
        self._view("nudged").gamma = self.settings.gamma
        self._view("nudged").set_title()
        self._show_gamma(" · press r to run at this γ")

    def action_run(self) -> None:
        if not self.nudge_app.engine.ready:
            self.notify("No model pair is ready.", severity="warning")
            return
        if self._worker is not None and self._worker.is_running:
            self.notify("A compare is running; wait for it or press Esc.", severity="warning")
            return
        self._run_number += 1
        self._stop.clear()
        self.results = {}
        self._show_gamma()
        for mode in MODES:
            view = self._view(mode)
            view.spans, view.gamma = [], self.settings.gamma
            view.set_title()
            view.load([], "waiting…")
        self._worker = self._run_all(self._run_number, self.settings)

    @work(thread=True, group="compare")
    def _run_all(self, run: int, settings: GenerationSettings) -> None:
        engine = self.nudge_app.engine
        for mode in MODES:  # one generation at a time: a Nudger is not re-entrant
            if self._stop.is_set():
                break

            def on_piece(piece: Piece, mode: str = mode) -> None:
                self.post_message(_Piece(run, mode, piece))

            try:
                result = engine.run(self.chat_messages, settings, on_piece, mode=mode)
            except Exception as exc:
                self.post_message(_Failed(run, mode, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
            else:
                self.post_message(_Done(run, mode, result))

    @on(_Piece)
    def _piece(self, event: _Piece) -> None:
        if event.run == self._run_number:
            view = self._view(event.mode)
            if not view.spans:
                view.set_status("generating…")
            view.add_piece(event.piece)

    @on(_Done)
    def _done(self, event: _Done) -> None:
        if event.run != self._run_number:
            return
        self.results[event.mode] = event.result
        self._view(event.mode).finish(event.result)
        if self.finished:
            self._save()

    @on(_Failed)
    def _failed(self, event: _Failed) -> None:
        if event.run == self._run_number:
            self._view(event.mode).fail(event.error)

    @property
    def finished(self) -> bool:
        return len(self.results) == len(MODES)

    def _save(self) -> None:
        if self.chat_id is None or not self.chat_messages:
            return
        record = CompareRecord(self.chat_messages[-1]["content"], self.settings.gamma,
                               {mode: r.as_dict() for mode, r in self.results.items()}, self.message_id)
        try:
            self.nudge_app.store.add_compare(self.chat_id, record)
        except StoreError as exc:
            self.notify(f"This compare could not be saved: {exc}", severity="error")
            return
        self.new_records.append(record)

    def action_close(self) -> None:
        self._stop.set()
        self.nudge_app.engine.cancel()
        self.dismiss(self.new_records)
