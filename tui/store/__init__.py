"""Chat history in SQLite (platformdirs user data dir)."""

from __future__ import annotations

from pathlib import Path

import platformdirs

from .chats import ChatStore, ChatSummary, StoredMessage
from .export import chat_to_markdown, stats_line
from .schema import SCHEMA_VERSION, SchemaTooNewError

__all__ = [
    "ChatStore",
    "ChatSummary",
    "StoredMessage",
    "chat_to_markdown",
    "stats_line",
    "SCHEMA_VERSION",
    "SchemaTooNewError",
    "default_store_path",
]


def default_store_path() -> Path:
    return Path(platformdirs.user_data_dir("nudge-local")) / "chats.sqlite3"
