"""Compare: the last prompt in all three modes, side by side (the paper's point, visible)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.content import Content

from ..settings import MODES, GenerationSettings
from ..widgets.reply import ReplyView


@dataclass
class _Piece(Message):
    mode: str
    piece: Any


@dataclass
class _Done(Message):
    mode: str
    result: Any


@dataclass
class _Failed(Message):
    mode: str
    error: str


class CompareScreen(Screen):
    BINDINGS = [Binding("escape", "close", "Stop / back")]

    def __init__(self, messages: list[dict[str, str]], settings: GenerationSettings) -> None:
        super().__init__()
        self.chat_messages = messages
        self.settings = settings
        self.results: dict[str, Any] = {}
        self._stop = threading.Event()

    def compose(self) -> ComposeResult:
        prompt = self.chat_messages[-1]["content"]
        yield Static(Content.assemble(("Compare · ", "bold"), prompt), id="compare-prompt")
        with Horizontal(id="compare-columns"):
            for mode in MODES:
                with VerticalScroll(classes="compare-column"):
                    yield ReplyView(mode, self.settings.gamma, id=f"compare-{mode}")
        yield Footer()

    def on_mount(self) -> None:
        for mode in MODES:
            self.query_one(f"#compare-{mode}", ReplyView).set_status("waiting…")
        self._run_all()

    @work(thread=True, group="compare")
    def _run_all(self) -> None:
        engine = self.app.engine
        for mode in MODES:  # one generation at a time: a Nudger is not re-entrant
            if self._stop.is_set():
                break
            try:
                result = engine.run(
                    self.chat_messages,
                    self.settings,
                    lambda p, mode=mode: self.post_message(_Piece(mode, p)),
                    mode=mode,
                )
            except Exception as exc:
                self.post_message(_Failed(mode, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
            else:
                self.post_message(_Done(mode, result))

    def _view(self, mode: str) -> ReplyView:
        return self.query_one(f"#compare-{mode}", ReplyView)

    @on(_Piece)
    def _piece(self, event: _Piece) -> None:
        view = self._view(event.mode)
        if not view.spans:
            view.set_status("generating…")
        view.add_piece(event.piece)

    @on(_Done)
    def _done(self, event: _Done) -> None:
        self.results[event.mode] = event.result
        self._view(event.mode).finish(event.result)

    @on(_Failed)
    def _failed(self, event: _Failed) -> None:
        self._view(event.mode).fail(event.error)

    @property
    def finished(self) -> bool:
        return len(self.results) == len(MODES)

    def action_close(self) -> None:
        self._stop.set()
        self.app.engine.cancel()
        self.dismiss()
