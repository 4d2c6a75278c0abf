"""The prompt box: Enter sends, Ctrl+J inserts a newline, Up/Down recall prompts, PageUp/PageDown
scroll the conversation, Tab goes to the newest message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import events
from textual.message import Message
from textual.widgets import TextArea

NEWLINE_KEYS = ("ctrl+j", "shift+enter", "alt+enter")  # alt+enter only where the terminal sends it
SCROLL_KEYS = {
    "pageup": "page_up", "pagedown": "page_down",
    "shift+pageup": "page_up", "shift+pagedown": "page_down",
    "ctrl+pageup": "page_up", "ctrl+pagedown": "page_down",
    "ctrl+home": "home", "ctrl+end": "end",
}


class PromptInput(TextArea):
    @dataclass
    class Submitted(Message):
        """Enter was pressed on a non-empty prompt; the box is already empty (so what the user
        types next is kept). A caller that refuses the prompt calls ``restore(text)``."""

        prompt: PromptInput
        text: str

    @dataclass
    class ScrollConversation(Message):
        how: str  # "page_up" | "page_down" | "home" | "end"

    class FocusMessages(Message):
        """Tab: focus the newest message."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)
        self.sent: list[str] = []
        self._recall: int | None = None  # index into history while recalling
        self._draft = ""

    def remember(self, text: str) -> None:
        if text and (not self.sent or self.sent[-1] != text):
            self.sent.append(text)
        self._recall = None

    def restore(self, text: str) -> None:
        """Put a prompt that was not sent back, before anything typed since."""
        typed = self.text
        self._set(text if not typed.strip() else f"{text}\n{typed}")

    def _intercept(self, key: str) -> bool:
        """Handle ``key`` ourselves; True when it must not reach the TextArea."""
        if key == "enter":
            text = self.text.strip()
            if text:
                # Empty the box now, not when the message is handled: keys typed right after
                # Enter land in the box before that, and must not be wiped.
                self.clear()
                self.post_message(self.Submitted(self, text))
            return True
        if key in NEWLINE_KEYS:
            self.insert("\n")
            return True
        if key in SCROLL_KEYS:
            self.post_message(self.ScrollConversation(SCROLL_KEYS[key]))
            return True
        if key == "tab":
            self.post_message(self.FocusMessages())
            return True
        if key == "up" and self.cursor_location[0] == 0 and self.sent:
            self._recall_step(-1)
            return True
        if key == "down" and self._recall is not None and self._on_last_line():
            self._recall_step(+1)
            return True
        return False

    async def _on_key(self, event: events.Key) -> None:
        if self._intercept(event.key):
            event.stop()
            event.prevent_default()
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
