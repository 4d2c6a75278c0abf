"""Saved chats: open, rename, delete, export."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static


class HistoryScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("enter", "open", "Open"),
        Binding("r", "rename", "Rename"),
        Binding("d", "delete", "Delete"),
        Binding("e", "export", "Export"),
    ]

    def compose(self) -> ComposeResult:
        yield Static("Chats", classes="panel-title")
        yield DataTable(id="chats", cursor_type="row", zebra_stripes=True)
        yield Static("", id="chats-empty")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("title", "pair", "messages", "last change (UTC)")
        self.reload()
        table.focus()

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        chats = self.app.store.list_chats()
        for chat in chats:
            table.add_row(chat.title, chat.pair or "", str(chat.message_count),
                          chat.updated_at.replace("T", " ")[:16], key=str(chat.id))
        self.query_one("#chats-empty", Static).update("" if chats else "No saved chats yet.")

    def _selected(self) -> int | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return int(key.value)

    async def action_open(self) -> None:
        chat_id = self._selected()
        if chat_id is not None:
            await self.app.open_chat(chat_id)

    @on(DataTable.RowSelected)
    async def _row_selected(self) -> None:
        await self.action_open()

    def action_rename(self) -> None:
        chat_id = self._selected()
        if chat_id is not None:
            self.app.rename_chat(chat_id, on_done=self.reload)

    def action_delete(self) -> None:
        chat_id = self._selected()
        if chat_id is not None:
            self.app.delete_chat(chat_id, on_done=self.reload)

    def action_export(self) -> None:
        chat_id = self._selected()
        if chat_id is not None:
            self.app.export_chat(chat_id)
