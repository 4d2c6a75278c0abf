"""A prompt the user sent."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import BindingType
from textual.content import Content
from textual.widgets import Static

from ..store import StoredMessage
from .chat_item import ChatItem


class UserMessage(Static, ChatItem, can_focus=True):
    # Static does not inherit bindings, so ChatItem's are named again here.
    BINDINGS: ClassVar[list[BindingType]] = list(ChatItem.BINDINGS)

    def __init__(self, text: str, stored: StoredMessage | None = None, **kwargs: Any) -> None:
        # Content (not markup) so that brackets in a prompt are shown as typed.
        super().__init__(Content(text), **kwargs)
        self._text = text
        self.stored = stored

    @property
    def text(self) -> str:
        return self._text

    def set_text(self, text: str) -> None:
        self._text = text
        self.update(Content(text))
