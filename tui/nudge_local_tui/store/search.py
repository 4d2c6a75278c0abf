"""Full-text search over saved messages: SQLite FTS5 where this SQLite has it, else LIKE.

The FTS5 index is derived data, kept out of the versioned schema: it is (re)built when a
database is opened on a SQLite with FTS5 and the index is missing or was left stale (the
database was last written where FTS5 is missing, which drops the triggers that keep it up to
date, since a trigger naming a missing module would make every insert fail).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

_STALE_KEY = "search_index_stale"

_TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS messages_fts_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER IF NOT EXISTS messages_fts_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER IF NOT EXISTS messages_fts_au AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
"""


@dataclass(frozen=True)
class SearchHit:
    chat_id: int
    chat_title: str
    message_id: int
    role: str
    snippet: str


def fts5_available() -> bool:
    try:
        sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE t USING fts5(x)")
    except sqlite3.Error:
        return False
    return True


def prepare_index(conn: sqlite3.Connection, use_fts: bool) -> bool:
    """Make the search index usable on this connection; return whether FTS5 is used."""
    if not use_fts:
        conn.executescript(
            "DROP TRIGGER IF EXISTS messages_fts_ai; DROP TRIGGER IF EXISTS messages_fts_ad; "
            "DROP TRIGGER IF EXISTS messages_fts_au;"
        )
        conn.execute("INSERT OR REPLACE INTO state (key, value) VALUES (?, '1')", (_STALE_KEY,))
        return False
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'messages_fts'").fetchone()
    stale = conn.execute("SELECT 1 FROM state WHERE key = ?", (_STALE_KEY,)).fetchone()
    conn.executescript(
        "BEGIN;"
        "CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5("
        "content, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2');"
        + _TRIGGERS
        + ("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');" if not exists or stale else "")
        + f"DELETE FROM state WHERE key = '{_STALE_KEY}';"
        "COMMIT;"
    )
    return True


def _fts_query(text: str) -> str:
    """The user's words as FTS5 phrases (so quotes, stars and NEAR are plain text); the last
    word matches as a prefix, as people expect while typing."""
    words = [w.replace('"', '""') for w in text.split()]
    phrases = [f'"{w}"' for w in words]
    if phrases:
        phrases[-1] += "*"
    return " ".join(phrases)


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_sql(text: str, use_fts: bool, chat_id: int | None, limit: int) -> tuple[str, list[object]]:
    """The query (and its parameters) for ``search``: newest chats first."""
    where_chat = " AND m.chat_id = ?" if chat_id is not None else ""
    extra: list[object] = [chat_id] if chat_id is not None else []
    if use_fts:
        sql = (
            "SELECT m.id, m.chat_id, m.role, c.title, "
            "snippet(messages_fts, 0, '»', '«', '…', 10) AS snippet "
            "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
            "JOIN chats c ON c.id = m.chat_id "
            f"WHERE messages_fts MATCH ?{where_chat} ORDER BY c.updated_at DESC, m.id LIMIT ?"
        )
        return sql, [_fts_query(text), *extra, limit]
    words = text.split()
    likes = " AND ".join("m.content LIKE ? ESCAPE '\\'" for _ in words) or "1"
    sql = (
        "SELECT m.id, m.chat_id, m.role, c.title, substr(m.content, 1, 120) AS snippet "
        "FROM messages m JOIN chats c ON c.id = m.chat_id "
        f"WHERE {likes}{where_chat} ORDER BY c.updated_at DESC, m.id LIMIT ?"
    )
    return sql, [*(_like(w) for w in words), *extra, limit]


def hit_from_row(row: sqlite3.Row) -> SearchHit:
    snippet = " ".join(str(row["snippet"]).split())
    return SearchHit(int(row["chat_id"]), str(row["title"]), int(row["id"]), str(row["role"]), snippet)
