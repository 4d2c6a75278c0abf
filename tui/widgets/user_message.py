"""A prompt the user sent."""

from __future__ import annotations

from textual.widgets import Static
from textual.content import Content


class UserMessage(Static, can_focus=True):
    def __init__(self, text: str, **kwargs) -> None:
        # Content (not markup) so that brackets in a prompt are shown as typed.
        super().__init__(Content(text), **kwargs)
        self.text = text
