"""Saved chats: open, search (every chat's messages), rename, delete, export."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from ..store import ChatSummary, SearchHit, StoreError, local_time

if TYPE_CHECKING:
    from ..app import NudgeApp


class ChatsTable(DataTable[str | Content]):
    """The list; Enter opens the chat under the cursor (and says so in the footer)."""

    BINDINGS = [Binding("enter", "select_cursor", "Open")]


def snippet_content(snippet: str) -> Content:
    """A search snippet with the matched words (between » and «) in bold."""
    parts: list[Content | tuple[str, str]] = []
    rest = snippet
    while "»" in rest:
        before, _, after = rest.partition("»")
        match, _, rest = after.partition("«")
        parts += [Content(before), (match, "bold $accent")]
    parts.append(Content(rest))
    return Content.assemble(*parts)


class HistoryScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "search", "Search"),
        Binding("r", "rename", "Rename"),
        Binding("d", "delete", "Delete"),
        Binding("e", "export", "Export"),
    ]

    def __init__(self, search: bool = False) -> None:
        super().__init__()
        self._start_in_search = search
        self.hits: list[SearchHit] = []
        # "/" was pressed and the search box is not focused yet: what is typed meanwhile
        # (quickly, e.g. "/wizard") is search text, not the r/d/e keys.
        self._search_pending = False

    @property
    def nudge_app(self) -> NudgeApp:
        return cast("NudgeApp", self.app)

    def compose(self) -> ComposeResult:
        yield Static("Chats", classes="panel-title")
        yield Input(placeholder="search every chat (/)", id="chat-search")
        yield ChatsTable(id="chats", cursor_type="row", zebra_stripes=True)
        yield Static("", id="chats-empty")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        if self._start_in_search:
            self.query_one("#chat-search").focus()
        else:
            self.query_one(ChatsTable).focus()

    def on_screen_resume(self) -> None:
        self.reload()

    @property
    def query_text(self) -> str:
        return self.query_one("#chat-search", Input).value.strip()

    def reload(self) -> None:
        table = self.query_one(ChatsTable)
        table.clear(columns=True)
        empty = self.query_one("#chats-empty", Static)
        try:
            if self.query_text:
                self._show_hits(table, self.nudge_app.store.search(self.query_text))
            else:
                self._show_chats(table, self.nudge_app.store.list_chats())
        except StoreError as exc:
            empty.update(f"The saved chats cannot be read: {exc}")
            return
        if table.row_count:
            empty.update("")
        else:
            empty.update("No chat contains that." if self.query_text else "No saved chats yet.")

    def _show_chats(self, table: ChatsTable, chats: list[ChatSummary]) -> None:
        self.hits = []
        table.add_columns("title", "pair", "messages", "last change")
        for chat in chats:
            table.add_row(chat.title, chat.pair or "", str(chat.message_count), local_time(chat.updated_at),
                          key=str(chat.id))

    def _show_hits(self, table: ChatsTable, hits: list[SearchHit]) -> None:
        self.hits = hits
        table.add_columns("chat", "who")
        # (a styled cell is not measured: give the column the snippets' width)
        width = max((len(h.snippet) for h in hits), default=10)
        table.add_column("found", width=min(max(width, 10), 100))
        for i, hit in enumerate(hits):
            who = "you" if hit.role == "user" else "reply"
            table.add_row(hit.chat_title, who, snippet_content(hit.snippet), key=f"{hit.chat_id}:{i}")

    def _selected(self) -> int | None:
        table = self.query_one(ChatsTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""
        return int(key.split(":")[0])

    @on(Input.Changed, "#chat-search")
    def _search_changed(self) -> None:
        self.reload()

    @on(Input.Submitted, "#chat-search")
    def _search_done(self) -> None:
        self.query_one(ChatsTable).focus()

    def action_search(self) -> None:
        self._search_pending = True
        self.query_one("#chat-search").focus()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget is self.query_one("#chat-search"):
            self._search_pending = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("rename", "delete", "export") and (
                self._search_pending or self.focused is self.query_one("#chat-search")):
            return False
        return True

    def on_key(self, event: events.Key) -> None:
        # Keys reach this handler in the order typed, before any binding runs (bindings run when
        # a key has bubbled up to the app), so "/" is handled here rather than as a binding.
        if event.key == "slash" and not self._search_pending:
            event.stop()
            self.action_search()
        elif self._search_pending and event.is_printable and event.character:
            event.stop()
            self.query_one("#chat-search", Input).insert_text_at_cursor(event.character)

    def action_back(self) -> None:
        if self.focused is self.query_one("#chat-search") and self.query_text:
            self.query_one("#chat-search", Input).value = ""
            return
        self.app.pop_screen()

    async def action_open(self) -> None:
        chat_id = self._selected()
        if chat_id is not None:
            await self.nudge_app.open_chat(chat_id)

    @on(DataTable.RowSelected)
    async def _row_selected(self) -> None:
        await self.action_open()

    def action_rename(self) -> None:
        chat_id = self._selected()
        if chat_id is not None:
            self.nudge_app.rename_chat(chat_id, on_done=self.reload)

    def action_delete(self) -> None:
        chat_id = self._selected()
        if chat_id is not None:
            self.nudge_app.delete_chat(chat_id, on_done=self.reload)

    def action_export(self) -> None:
        chat_id = self._selected()
        if chat_id is not None:
            self.nudge_app.export_chat(chat_id)
