"""The SQLite chat store: schema versions, migrations, messages, state."""

from __future__ import annotations

import sqlite3

import pytest

from nudge_local_tui.store import (
    SCHEMA_VERSION,
    ChatStore,
    SchemaTooNewError,
    StoredMessage,
    chat_to_markdown,
    default_store_path,
)
from nudge_local_tui.store.schema import MIGRATIONS, migrate, schema_version


def test_new_database_gets_the_current_schema_in_wal_mode(tmp_path):
    path = tmp_path / "sub" / "chats.sqlite3"
    with ChatStore(path):
        pass
    conn = sqlite3.connect(path)
    assert schema_version(conn) == SCHEMA_VERSION == len(MIGRATIONS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"chats", "messages", "state"} <= tables


def test_migrations_run_once_and_in_order(tmp_path):
    conn = sqlite3.connect(tmp_path / "m.sqlite3", isolation_level=None)
    steps = MIGRATIONS + ["ALTER TABLE chats ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;"]
    assert migrate(conn) == 0
    conn.execute("INSERT INTO chats (title, created_at, updated_at) VALUES ('kept', 'a', 'a')")
    assert migrate(conn, steps) == len(MIGRATIONS)  # upgrades an existing v1 database
    assert schema_version(conn) == len(steps)
    assert conn.execute("SELECT title, pinned FROM chats").fetchall() == [("kept", 0)]
    assert migrate(conn, steps) == len(steps)  # nothing left to do


def test_a_failing_migration_leaves_the_old_version(tmp_path):
    conn = sqlite3.connect(tmp_path / "m.sqlite3", isolation_level=None)
    migrate(conn)
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, MIGRATIONS + ["ALTER TABLE chats ADD COLUMN x INTEGER; SELECT * FROM nope;"])
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    assert schema_version(conn) == len(MIGRATIONS)
    assert "x" not in {r[1] for r in conn.execute("PRAGMA table_info(chats)")}


def test_a_newer_database_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "c.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaTooNewError, match="upgrade nudge-local"):
        ChatStore(path)


def test_messages_round_trip_and_chats_list_newest_first(tmp_path):
    store = ChatStore(tmp_path / "c.sqlite3")
    a = store.create_chat("A", "demo")
    b = store.create_chat("B")
    store.add_message(a, StoredMessage("user", "hi"))
    reply = StoredMessage("assistant", "Hello there", spans=[{"text": "Hello", "source": "nudging"},
                          {"text": " there", "source": "base"}], mode="nudged", gamma=0.3,
                          stop_reason="cancelled", stats={"nudges": 1, "tokens_per_second": 2.5},
                          cancelled=True)
    store.add_message(a, reply)
    assert reply.id is not None and reply.chat_id == a
    got = store.messages(a)
    assert [m.role for m in got] == ["user", "assistant"]
    assert got[1].spans == reply.spans and got[1].cancelled and got[1].gamma == 0.3
    assert got[1].stats == {"nudges": 1, "tokens_per_second": 2.5}
    chats = store.list_chats()
    assert {c.title: c.message_count for c in chats} == {"A": 2, "B": 0}
    store.rename_chat(b, "B2")
    assert store.get_chat(b).title == "B2"
    store.delete_chat(a)
    assert store.messages(a) == []  # cascade
    assert [c.title for c in store.list_chats()] == ["B2"]


def test_each_message_is_committed_at_once(tmp_path):
    path = tmp_path / "c.sqlite3"
    store = ChatStore(path)
    chat = store.create_chat("A")
    store.add_message(chat, StoredMessage("user", "kept"))
    # A second connection sees it while the store is still open: nothing waits in a transaction.
    other = sqlite3.connect(path)
    assert other.execute("SELECT content FROM messages").fetchall() == [("kept",)]


def test_state_values(tmp_path):
    store = ChatStore(tmp_path / "c.sqlite3")
    assert store.get_state("last", "dflt") == "dflt"
    store.set_state("last", "x")
    store.set_state("last", "y")
    assert store.get_state("last") == "y"


def test_default_path_is_in_the_user_data_dir(private_dirs):
    assert default_store_path() == private_dirs / "xdg_data_home" / "nudge-local" / "chats.sqlite3"


def test_markdown_export_marks_cancelled_and_mode(tmp_path):
    store = ChatStore(tmp_path / "c.sqlite3")
    chat = store.create_chat("Title", "demo")
    store.add_message(chat, StoredMessage("user", "Q?"))
    store.add_message(chat, StoredMessage("assistant", "Half", mode="base", stop_reason="cancelled",
                                          stats={"tokens_per_second": 3.0}, cancelled=True))
    md = chat_to_markdown(store.get_chat(chat), store.messages(chat))
    assert md.startswith("# Title\n\n_model pair: demo · created ")
    assert "## Assistant (base model only)\n\nHalf\n\n_3.0 tok/s · stopped by you_\n" in md
