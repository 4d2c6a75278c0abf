"""The chat database schema and its migrations.

The schema version lives in SQLite's ``PRAGMA user_version``. Each entry of ``MIGRATIONS`` moves
the database from version ``i`` to ``i + 1``; a database is upgraded step by step when opened,
each step in its own transaction, so an interrupted upgrade leaves a consistent older version.
Never edit a released step: append a new one.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: list[str] = [
    # 0 -> 1: chats, their messages, and a small key/value table for app state (last pair used).
    """
    CREATE TABLE chats (
        id          INTEGER PRIMARY KEY,
        title       TEXT NOT NULL,
        pair        TEXT,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
    );
    CREATE TABLE messages (
        id           INTEGER PRIMARY KEY,
        chat_id      INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
        role         TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        content      TEXT NOT NULL,
        spans        TEXT,
        mode         TEXT,
        gamma        REAL,
        stop_reason  TEXT,
        stats        TEXT,
        cancelled    INTEGER NOT NULL DEFAULT 0,
        created_at   TEXT NOT NULL
    );
    CREATE INDEX messages_by_chat ON messages (chat_id, id);
    CREATE TABLE state (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
    );
    """,
    # 1 -> 2: edited messages, the models that wrote a reply (for the marks legend in exports),
    # and compare runs kept with their chat.
    """
    ALTER TABLE messages ADD COLUMN edited INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN models TEXT;
    CREATE TABLE compares (
        id           INTEGER PRIMARY KEY,
        chat_id      INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
        message_id   INTEGER,
        prompt       TEXT NOT NULL,
        gamma        REAL NOT NULL,
        results      TEXT NOT NULL,
        created_at   TEXT NOT NULL
    );
    CREATE INDEX compares_by_chat ON compares (chat_id, id);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)

#: The tables each schema version has (what a database of ours must contain).
TABLES_BY_VERSION: dict[int, frozenset[str]] = {
    1: frozenset({"chats", "messages", "state"}),
    2: frozenset({"chats", "messages", "state", "compares"}),
}


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer nudge-local than this one."""


class ForeignDatabaseError(RuntimeError):
    """The file is a SQLite database, but not a nudge-local chat history (or misses tables)."""


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def user_tables(conn: sqlite3.Connection) -> set[str]:
    """Tables other than SQLite's own and the (rebuildable) search index's."""
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows if not r[0].startswith(("sqlite_", "messages_fts"))}


def check_ours(conn: sqlite3.Connection) -> None:
    """Refuse a database that is not ours: tables at version 0, or a known version's tables
    missing. (Extra tables next to ours are left alone.)"""
    version = schema_version(conn)
    tables = user_tables(conn)
    if version == 0 and tables:
        raise ForeignDatabaseError(
            f"it is a SQLite database of another program (tables: {', '.join(sorted(tables)[:5])})"
        )
    missing = TABLES_BY_VERSION.get(version, frozenset()) - tables
    if missing:
        raise ForeignDatabaseError(f"tables {', '.join(sorted(missing))} are missing")


def migrate(conn: sqlite3.Connection, migrations: list[str] = MIGRATIONS) -> int:
    """Bring ``conn`` up to ``len(migrations)``; return the version it had before."""
    before = schema_version(conn)
    if before > len(migrations):
        raise SchemaTooNewError(
            f"The chat history database has schema version {before}, newer than this "
            f"nudge-local understands ({len(migrations)}); upgrade nudge-local."
        )
    for version in range(before, len(migrations)):
        # executescript() commits any open transaction first; wrap the step so that the DDL and
        # the version bump land together or not at all.
        conn.executescript(
            "BEGIN;\n" + migrations[version] + f"\nPRAGMA user_version = {version + 1};\nCOMMIT;"
        )
    return before
