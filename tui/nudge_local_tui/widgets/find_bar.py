"""ctrl+f: find text in this chat. Enter jumps to the next message with it, Esc closes."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Static


class FindBar(Horizontal):
    BINDINGS = [Binding("escape", "close", "Close find")]

    @dataclass
    class Find(Message):
        text: str
        step: int  # 0: the text changed; 1: next match

    class Closed(Message):
        pass

    def compose(self) -> ComposeResult:
        yield Input(placeholder="find in this chat (enter: next, esc: close)", id="find-input")
        yield Static("", id="find-count")

    def open(self) -> None:
        self.display = True
        self.query_one(Input).focus()

    def show_count(self, index: int, total: int) -> None:
        text = "no match" if total == 0 else f"{index + 1} of {total}"
        self.query_one("#find-count", Static).update(text)

    @on(Input.Changed, "#find-input")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Find(event.value, 0))

    @on(Input.Submitted, "#find-input")
    def _next(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Find(event.value, 1))

    def action_close(self) -> None:
        self.display = False
        self.post_message(self.Closed())
