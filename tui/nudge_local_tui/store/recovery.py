"""Open the chat history, setting a damaged or foreign database aside instead of failing.

Nothing is ever deleted: the old file (and its -wal/-shm companions) is renamed next to itself
with a timestamp, ``chats.sqlite3.damaged-20250101-120000``, and a fresh history is started. A
database written by a newer nudge-local is not damaged; it is refused (``SchemaTooNewError``)
so that an upgrade, not a reset, fixes it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .chats import ChatStore
from .db import StoreError
from .schema import ForeignDatabaseError


@dataclass(frozen=True)
class Opened:
    store: ChatStore
    #: what happened, for the user (None when the history opened as it was)
    notice: str | None = None
    #: where a damaged or foreign history was moved
    set_aside: Path | None = None


def set_aside(path: Path, now: datetime | None = None) -> Path:
    """Rename ``path`` (and its -wal/-shm files) to ``<name>.damaged-<timestamp>``."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while target.exists():  # two in one second: never overwrite an earlier one
        n += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    path.rename(target)
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.rename(target.with_name(target.name + suffix))
    return target


def _problem(path: Path) -> tuple[ChatStore | None, str | None]:
    """The store if it opens and checks out, else None and what is wrong with it."""
    try:
        store = ChatStore(path)
    except ForeignDatabaseError as exc:
        return None, f"it is not a nudge-local chat history: {exc}"
    except StoreError as exc:
        cause = exc.__cause__
        return None, str(cause) if isinstance(cause, sqlite3.Error) else str(exc)
    try:
        report = store.check_integrity()
    except StoreError as exc:
        report = str(exc.__cause__ or exc)
    if report != "ok":
        store.close()
        return None, f"it is damaged: {report}"
    return store, None


def open_store(path: Path) -> Opened:
    """The chat history at ``path``; a damaged or foreign one is set aside and a new one made.
    Raises ``SchemaTooNewError`` (upgrade) and ``StoreError`` (e.g. the folder is not writable)."""
    if not path.exists():
        return Opened(ChatStore(path))
    store, problem = _problem(path)
    if store is not None:
        return Opened(store)
    try:
        aside = set_aside(path)
    except OSError as exc:
        raise StoreError(f"The chat history {path} cannot be read ({problem}) nor moved aside ({exc}).") from exc
    notice = (f"The chat history could not be read ({problem}). It was moved to {aside.name} "
              f"(nothing was deleted) and a new one was started.")
    return Opened(ChatStore(path), notice, aside)
