"""One SQLite connection behind a lock, with SQLite's errors turned into ours.

Every SQLite failure leaves here as a :class:`StoreError` whose message is one sentence a user
can act on; a full disk is a :class:`DiskFullError`, so the UI can say so and keep what was typed.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Params = Sequence[Any]


class StoreError(Exception):
    """The chat history could not be read or written; the message is one sentence."""


class DiskFullError(StoreError):
    """The disk (or the database's size limit) is full."""


class DamagedStoreError(StoreError):
    """The database file is damaged or is not a nudge-local chat history."""


_FULL = {"SQLITE_FULL"}
_DAMAGED = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}


def translate(exc: sqlite3.Error, path: Path | str) -> StoreError:
    """Our error for a SQLite one (``exc`` stays the ``__cause__``)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if name in _FULL or "disk is full" in text:
        return DiskFullError(f"The disk is full: the chat history {path} cannot grow ({text}).")
    if name in _DAMAGED or "malformed" in text or "not a database" in text:
        return DamagedStoreError(f"The chat history {path} is damaged ({text}).")
    return StoreError(f"The chat history {path} could not be used ({text}).")


class Database:
    """Safe to call from several threads: one connection, one lock, autocommit.

    ``isolation_level=None``: we issue our own BEGIN/COMMIT, so nothing stays pending between
    calls and a second connection (or a crash) sees every committed write.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        try:
            self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise translate(exc, path) from exc
        self.conn.row_factory = sqlite3.Row

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    def write(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        with self.lock:
            try:
                return self.conn.execute(sql, params)
            except sqlite3.Error as exc:
                raise translate(exc, self.path) from exc

    def read(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        with self.lock:
            try:
                return self.conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise translate(exc, self.path) from exc

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN … COMMIT; on any failure, roll back what is still open and raise ours.

        SQLite rolls a transaction back by itself on some errors (a full disk among them);
        a second ROLLBACK would then fail with "no transaction is active" and hide the real
        error, so roll back only what is still open."""
        with self.lock:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException as exc:
                if self.conn.in_transaction:
                    try:
                        self.conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # the original error is the one worth reporting
                if isinstance(exc, sqlite3.Error):
                    raise translate(exc, self.path) from exc
                raise
