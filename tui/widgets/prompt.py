"""The prompt box: Enter sends, Ctrl+J / Alt+Enter insert a newline, Up/Down recall prompts."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.message import Message
from textual.widgets import TextArea


class PromptInput(TextArea):
    @dataclass
    class Submitted(Message):
        prompt: "PromptInput"
        text: str

    def __init__(self, **kwargs) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)
        self.sent: list[str] = []
        self._recall: int | None = None  # index into history while recalling
        self._draft = ""

    def remember(self, text: str) -> None:
        if text and (not self.sent or self.sent[-1] != text):
            self.sent.append(text)
        self._recall = None

    async def _on_key(self, event: events.Key) -> None:
        key = event.key
        if key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text.strip()
            if text:
                self.post_message(self.Submitted(self, text))
            return
        if key in ("ctrl+j", "alt+enter", "shift+enter"):
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        if key == "up" and self.cursor_location[0] == 0 and self.sent:
            event.stop()
            event.prevent_default()
            self._recall_step(-1)
            return
        if key == "down" and self._recall is not None and self._on_last_line():
            event.stop()
            event.prevent_default()
            self._recall_step(+1)
            return
        await super()._on_key(event)

    def _on_last_line(self) -> bool:
        return self.cursor_location[0] == self.document.line_count - 1

    def _recall_step(self, delta: int) -> None:
        if self._recall is None:
            if delta > 0:
                return
            self._draft = self.text
            index = len(self.sent) - 1
        else:
            index = self._recall + delta
        if index < 0:
            return
        if index >= len(self.sent):
            self._recall = None
            self._set(self._draft)
            return
        self._recall = index
        self._set(self.sent[index])

    def _set(self, text: str) -> None:
        self.text = text
        self.move_cursor(self.document.end)
