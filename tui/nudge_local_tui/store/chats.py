"""SQLite chat history: chats, their messages, compare runs, and a little app state.

Every write commits at once (one message = one transaction) and the database runs in WAL mode,
so killing the app loses at most the reply that was still streaming. Every failure is a
``StoreError`` (``DiskFullError`` for a full disk), never a bare ``sqlite3`` error.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .db import Database, StoreError
from .schema import check_ours, migrate
from .search import SearchHit, fts5_available, hit_from_row, prepare_index, search_sql


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
    edited: bool = False
    #: (base model name, nudging model name) of the pair that wrote a reply
    models: tuple[str, str] | None = None


@dataclass
class ChatSummary:
    id: int
    title: str
    pair: str | None
    created_at: str
    updated_at: str
    message_count: int


@dataclass
class CompareRecord:
    """One compare run: the prompt, the γ, and each mode's result (``NudgeResult.as_dict()``)."""

    prompt: str
    gamma: float
    results: dict[str, dict[str, Any]]
    message_id: int | None = None
    id: int | None = None
    chat_id: int | None = None
    created_at: str | None = None


def _message(r: sqlite3.Row) -> StoredMessage:
    models = json.loads(r["models"]) if r["models"] else None
    return StoredMessage(
        role=r["role"], content=r["content"], spans=json.loads(r["spans"] or "[]"), mode=r["mode"],
        gamma=r["gamma"], stop_reason=r["stop_reason"], stats=json.loads(r["stats"] or "{}"),
        cancelled=bool(r["cancelled"]), id=r["id"], chat_id=r["chat_id"], created_at=r["created_at"],
        edited=bool(r["edited"]), models=tuple(models) if models else None,
    )


class ChatStore:
    """One SQLite file. Safe to call from several threads (one connection behind a lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"The folder for the chat history {self.path} cannot be made ({exc}).") from exc
        self._db = Database(path)
        try:
            self._setup()
        except sqlite3.Error as exc:
            self._db.close()
            from .db import translate

            raise translate(exc, self.path) from exc
        except BaseException:
            self._db.close()
            raise

    def _setup(self) -> None:
        conn = self._db.conn
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        check_ours(conn)
        migrate(conn)
        self.uses_fts = prepare_index(conn, fts5_available())

    def check_integrity(self) -> str:
        """``"ok"``, or what SQLite's quick check found (a damaged page, ...)."""
        rows = self._db.read("PRAGMA quick_check")
        problems = [str(r[0]) for r in rows if str(r[0]) != "ok"]
        return "ok" if not problems else "; ".join(problems[:3])

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ChatStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- chats -----------------------------------------------------------------------------
    def create_chat(self, title: str, pair: str | None = None) -> int:
        now = _now()
        cur = self._db.write(
            "INSERT INTO chats (title, pair, created_at, updated_at) VALUES (?, ?, ?, ?)",
            (title, pair, now, now),
        )
        return int(cur.lastrowid or 0)

    def list_chats(self) -> list[ChatSummary]:
        rows = self._db.read(
            """SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.chat_id = c.id) AS n
               FROM chats c ORDER BY c.updated_at DESC, c.id DESC"""
        )
        return [ChatSummary(r["id"], r["title"], r["pair"], r["created_at"], r["updated_at"], r["n"]) for r in rows]

    def get_chat(self, chat_id: int) -> ChatSummary | None:
        rows = self._db.read(
            """SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.chat_id = c.id) AS n
               FROM chats c WHERE c.id = ?""",
            (chat_id,),
        )
        return ChatSummary(rows[0]["id"], rows[0]["title"], rows[0]["pair"], rows[0]["created_at"],
                           rows[0]["updated_at"], rows[0]["n"]) if rows else None

    def rename_chat(self, chat_id: int, title: str) -> None:
        self._db.write("UPDATE chats SET title = ?, updated_at = ? WHERE id = ?", (title, _now(), chat_id))

    def delete_chat(self, chat_id: int) -> None:
        self._db.write("DELETE FROM chats WHERE id = ?", (chat_id,))

    # -- messages --------------------------------------------------------------------------
    def add_message(self, chat_id: int, message: StoredMessage) -> int:
        now = _now()
        with self._db.transaction() as conn:
            cur = conn.execute(
                """INSERT INTO messages (chat_id, role, content, spans, mode, gamma, stop_reason,
                       stats, cancelled, created_at, edited, models)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (chat_id, message.role, message.content, json.dumps(message.spans), message.mode,
                 message.gamma, message.stop_reason, json.dumps(message.stats), int(message.cancelled),
                 now, int(message.edited), json.dumps(list(message.models)) if message.models else None),
            )
            conn.execute("UPDATE chats SET updated_at = ? WHERE id = ?", (now, chat_id))
        message.id, message.chat_id, message.created_at = int(cur.lastrowid or 0), chat_id, now
        return message.id

    def messages(self, chat_id: int) -> list[StoredMessage]:
        rows = self._db.read("SELECT * FROM messages WHERE chat_id = ? ORDER BY id", (chat_id,))
        return [_message(r) for r in rows]

    def edit_message(self, message_id: int, content: str) -> None:
        """New text for a message. An edited reply loses its marks: nobody wrote it as a whole."""
        with self._db.transaction() as conn:
            conn.execute("UPDATE messages SET content = ?, spans = '[]', edited = 1 WHERE id = ?",
                         (content, message_id))
            conn.execute("UPDATE chats SET updated_at = ? WHERE id = "
                         "(SELECT chat_id FROM messages WHERE id = ?)", (_now(), message_id))

    def delete_messages(self, message_ids: list[int]) -> None:
        with self._db.transaction() as conn:
            conn.executemany("DELETE FROM messages WHERE id = ?", [(i,) for i in message_ids])

    # -- compare runs ----------------------------------------------------------------------
    def add_compare(self, chat_id: int, record: CompareRecord) -> int:
        now = _now()
        cur = self._db.write(
            "INSERT INTO compares (chat_id, message_id, prompt, gamma, results, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (chat_id, record.message_id, record.prompt, record.gamma, json.dumps(record.results), now),
        )
        record.id, record.chat_id, record.created_at = int(cur.lastrowid or 0), chat_id, now
        return record.id

    def compares(self, chat_id: int) -> list[CompareRecord]:
        rows = self._db.read("SELECT * FROM compares WHERE chat_id = ? ORDER BY id", (chat_id,))
        return [CompareRecord(r["prompt"], r["gamma"], json.loads(r["results"]), r["message_id"], r["id"],
                              r["chat_id"], r["created_at"]) for r in rows]

    # -- search ----------------------------------------------------------------------------
    def search(self, text: str, chat_id: int | None = None, limit: int = 100) -> list[SearchHit]:
        """Messages containing all of ``text``'s words, in every chat or in ``chat_id``."""
        if not text.split():
            return []
        sql, params = search_sql(text, self.uses_fts, chat_id, limit)
        return [hit_from_row(r) for r in self._db.read(sql, params)]

    # -- app state (last pair used, ...) ---------------------------------------------------
    def get_state(self, key: str, default: str | None = None) -> str | None:
        rows = self._db.read("SELECT value FROM state WHERE key = ?", (key,))
        return str(rows[0]["value"]) if rows else default

    def set_state(self, key: str, value: str) -> None:
        self._db.write(
            "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
