"""SQLite chat history: chats, their messages, and a little app state.

Every write commits at once (one message = one transaction) and the database runs in WAL mode,
so killing the app loses at most the reply that was still streaming.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .schema import migrate


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class StoredMessage:
    role: str  # "user" | "assistant"
    content: str
    spans: list[dict[str, str]] = field(default_factory=list)  # [{"text", "source"}]
    mode: str | None = None
    gamma: float | None = None
    stop_reason: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    cancelled: bool = False
    id: int | None = None
    chat_id: int | None = None
    created_at: str | None = None


@dataclass
class ChatSummary:
    id: int
    title: str
    pair: str | None
    created_at: str
    updated_at: str
    message_count: int


class ChatStore:
    """One SQLite file. Safe to call from several threads (one connection behind a lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue our own BEGIN/COMMIT, so nothing stays pending.
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute("PRAGMA foreign_keys = ON")
        migrate(self._conn)

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> "ChatStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._conn.execute(sql, params)

    def _read(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # -- chats -----------------------------------------------------------------------------
    def create_chat(self, title: str, pair: str | None = None) -> int:
        now = _now()
        cur = self._write(
            "INSERT INTO chats (title, pair, created_at, updated_at) VALUES (?, ?, ?, ?)",
            (title, pair, now, now),
        )
        return int(cur.lastrowid)

    def list_chats(self) -> list[ChatSummary]:
        rows = self._read(
            """SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.chat_id = c.id) AS n
               FROM chats c ORDER BY c.updated_at DESC, c.id DESC"""
        )
        return [
            ChatSummary(r["id"], r["title"], r["pair"], r["created_at"], r["updated_at"], r["n"])
            for r in rows
        ]

    def get_chat(self, chat_id: int) -> ChatSummary | None:
        return next((c for c in self.list_chats() if c.id == chat_id), None)

    def rename_chat(self, chat_id: int, title: str) -> None:
        self._write("UPDATE chats SET title = ?, updated_at = ? WHERE id = ?", (title, _now(), chat_id))

    def delete_chat(self, chat_id: int) -> None:
        self._write("DELETE FROM chats WHERE id = ?", (chat_id,))

    # -- messages --------------------------------------------------------------------------
    def add_message(self, chat_id: int, message: StoredMessage) -> int:
        now = _now()
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN")
            try:
                cur = conn.execute(
                    """INSERT INTO messages (chat_id, role, content, spans, mode, gamma,
                           stop_reason, stats, cancelled, created_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (
                        chat_id,
                        message.role,
                        message.content,
                        json.dumps(message.spans),
                        message.mode,
                        message.gamma,
                        message.stop_reason,
                        json.dumps(message.stats),
                        int(message.cancelled),
                        now,
                    ),
                )
                conn.execute("UPDATE chats SET updated_at = ? WHERE id = ?", (now, chat_id))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        message.id, message.chat_id, message.created_at = int(cur.lastrowid), chat_id, now
        return message.id

    def messages(self, chat_id: int) -> list[StoredMessage]:
        rows = self._read("SELECT * FROM messages WHERE chat_id = ? ORDER BY id", (chat_id,))
        return [
            StoredMessage(
                role=r["role"],
                content=r["content"],
                spans=json.loads(r["spans"] or "[]"),
                mode=r["mode"],
                gamma=r["gamma"],
                stop_reason=r["stop_reason"],
                stats=json.loads(r["stats"] or "{}"),
                cancelled=bool(r["cancelled"]),
                id=r["id"],
                chat_id=r["chat_id"],
                created_at=r["created_at"],
            )
            for r in rows
        ]

    # -- app state (last pair used, ...) ---------------------------------------------------
    def get_state(self, key: str, default: str | None = None) -> str | None:
        rows = self._read("SELECT value FROM state WHERE key = ?", (key,))
        return rows[0]["value"] if rows else default

    def set_state(self, key: str, value: str) -> None:
        self._write(
            "INSERT INTO state (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
