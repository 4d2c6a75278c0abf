"""What a message in the conversation can do when it has focus (tab / shift+tab to it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget

from ..store import StoredMessage

#: (key, action, footer label): the same keys on prompts and replies.
ITEM_KEYS: list[tuple[str, str, str]] = [
    ("c", "copy", "Copy"),
    ("e", "edit", "Edit"),
    ("delete,d", "delete", "Delete"),
]


@dataclass
class ItemAction(Message):
    """A key pressed on a focused message; the chat screen carries it out."""

    item: ChatItem
    action: str  # "edit" | "delete" | "regenerate"


class ChatItem(Widget):
    """Second base of UserMessage and ReplyView (after their Textual class, whose CSS must come
    first): a message the user can focus and act on."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding(key, action, label) for key, action, label in ITEM_KEYS]

    stored: StoredMessage | None = None  # set once the message is in the store

    @property
    def text(self) -> str:
        raise NotImplementedError

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.text)
        self.notify("Copied to the clipboard.")

    def action_edit(self) -> None:
        self.post_message(ItemAction(self, "edit"))

    def action_delete(self) -> None:
        self.post_message(ItemAction(self, "delete"))
