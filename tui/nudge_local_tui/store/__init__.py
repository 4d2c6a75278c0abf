"""Chat history in SQLite (the user data dir)."""

from __future__ import annotations

from pathlib import Path

from nudge_local.paths import user_data_dir

from .chats import ChatStore, ChatSummary, CompareRecord, StoredMessage
from .db import DamagedStoreError, DiskFullError, StoreError
from .export import chat_to_markdown, local_time, stats_line
from .recovery import Opened, open_store, set_aside
from .schema import SCHEMA_VERSION, ForeignDatabaseError, SchemaTooNewError
from .search import SearchHit

__all__ = [
    "ChatStore",
    "ChatSummary",
    "CompareRecord",
    "DamagedStoreError",
    "DiskFullError",
    "ForeignDatabaseError",
    "Opened",
    "SCHEMA_VERSION",
    "SchemaTooNewError",
    "SearchHit",
    "StoreError",
    "StoredMessage",
    "chat_to_markdown",
    "default_store_path",
    "local_time",
    "open_store",
    "set_aside",
    "stats_line",
]


def default_store_path() -> Path:
    return user_data_dir() / "chats.sqlite3"
