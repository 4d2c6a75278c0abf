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
]

SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer nudge-local than this one."""


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


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
