"""The scrolling conversation: prompts, replies, compare notes, and finding text in them."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from ..store import CompareRecord, StoredMessage, stats_line
from .chat_item import ChatItem
from .reply import ReplyView
from .user_message import UserMessage

WELCOME = (
    "Type a question and press Enter (ctrl+j for a new line). Words the nudging model wrote are marked.\n"
    "Esc stops a reply · tab goes to the messages (c copy, e edit, d delete, r regenerate) · "
    "ctrl+o controls · ctrl+r compare · ctrl+f find · f2 models · ctrl+l chats · ctrl+p all commands · f1 help"
)


class CompareNote(Static, can_focus=True):
    """A compare run kept with the chat; Enter opens it."""

    BINDINGS = [Binding("enter", "open", "Open compare")]

    @dataclass
    class Open(Message):
        record: CompareRecord

    def __init__(self, record: CompareRecord) -> None:
        ratio = record.results.get("nudged", {}).get("nudge_ratio")
        ratio_text = f" · nudged {ratio:.0%} by the nudging model" if isinstance(ratio, (int, float)) else ""
        label = f"⇄ compared in three modes at γ {record.gamma:.2f}{ratio_text} · enter opens it"
        super().__init__(Content(label), classes="compare-note")
        self.record = record

    def action_open(self) -> None:
        self.post_message(self.Open(self.record))


def reply_view_for(m: StoredMessage) -> ReplyView:
    view = ReplyView(m.mode or "nudged", m.gamma)
    view.stored = m
    view.dropped = int(m.stats.get("dropped_messages", 0) or 0)
    view.edited = m.edited
    view.cancelled = m.cancelled
    spans = [(s["text"], s["source"]) for s in m.spans] or [(m.content, "base")]
    view.load(spans, stats_line(m))
    return view


class Conversation(VerticalScroll):
    """The messages of one chat, oldest first."""

    def items(self) -> list[ChatItem]:
        return [w for w in self.children if isinstance(w, ChatItem)]

    async def show(self, messages: list[StoredMessage], compares: list[CompareRecord]) -> None:
        """Replace what is shown by a stored chat ([] for a new one)."""
        await self.remove_children()
        if not messages:
            await self.mount(Static(WELCOME, id="welcome"))
            return
        by_prompt: dict[int | None, list[CompareRecord]] = {}
        for record in compares:
            by_prompt.setdefault(record.message_id, []).append(record)
        widgets: list[Widget] = []
        pending: list[CompareRecord] = []
        for m in messages:
            if m.role == "user":
                widgets += [CompareNote(r) for r in pending]
                pending = by_prompt.pop(m.id, [])
                widgets.append(UserMessage(m.content, stored=m, classes="user"))
            else:
                widgets.append(reply_view_for(m))
                widgets += [CompareNote(r) for r in pending]
                pending = []
        widgets += [CompareNote(r) for r in pending]
        await self.mount_all(widgets)
        self.scroll_end(animate=False)

    async def add(self, *widgets: Widget) -> None:
        for welcome in self.query("#welcome"):
            await welcome.remove()
        await self.mount_all(widgets)
        self.scroll_end(animate=False)

    def focus_newest(self) -> bool:
        items = self.items()
        if not items:
            return False
        items[-1].focus()
        return True

    def find(self, text: str) -> list[ChatItem]:
        """Messages containing ``text`` (any case), marked with the -match class."""
        needle = text.casefold().strip()
        found = []
        for item in self.items():
            hit = bool(needle) and needle in item.text.casefold()
            item.set_class(hit, "-match")
            if hit:
                found.append(item)
        return found

    def clear_find(self) -> None:
        for item in self.items():
            item.remove_class("-match")
