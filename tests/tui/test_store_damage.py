"""Chat history under damage (issue 15 item 5): a damaged or foreign database is set aside and a
fresh one started; a damaged chat does not crash the UI; a full disk keeps the prompt."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest
from fake_engine import FakeNudger
from tui_helpers import make_app, send, wait_ready, wait_reply_done, wait_until

from nudge_local_tui.app import NudgeApp
from nudge_local_tui.engine import ModelSpec
from nudge_local_tui.store import ChatStore, StoredMessage, default_store_path
from nudge_local_tui.widgets.reply import ReplyView
from nudge_local_tui.widgets.user_message import UserMessage

PAGE = 4096


def _fill(path: Path, chats: int = 3, per_chat: int = 40) -> None:
    with ChatStore(path) as store:
        for c in range(chats):
            chat = store.create_chat(f"chat {c}")
            for i in range(per_chat):
                store.add_message(chat, StoredMessage("user", f"message {i} " + "text " * 300))


def _damage_pages(path: Path, first: int = 6, count: int = 20) -> None:
    """Overwrite data pages (not page 1: the header and schema stay valid)."""
    with open(path, "r+b") as f:
        f.seek(first * PAGE)
        f.write(b"\x55" * (count * PAGE))


def _app_on_default_store(nudger: FakeNudger | None = None) -> NudgeApp:
    nudger = nudger or FakeNudger()
    return NudgeApp(spec=ModelSpec(pair="fake"), loader=lambda spec: nudger)


def _connection(store: ChatStore) -> sqlite3.Connection:
    """The store's connection (to set SQLite's size limit)."""
    db = getattr(store, "_db", None)
    return db.conn if db is not None else store._conn  # (the second: the store before this fix)


def _notices(app) -> list[str]:
    return [n.message for n in app._notifications]


def _set_aside(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".damaged-*"))


# -- set aside, never deleted --------------------------------------------------------------------
def test_a_database_with_damaged_pages_is_set_aside_and_a_new_one_started(tmp_path):
    path = tmp_path / "chats.sqlite3"
    _fill(path)
    _damage_pages(path)
    damaged = path.read_bytes()
    from nudge_local_tui.store import open_store

    opened = open_store(path)
    with opened.store as store:
        assert store.list_chats() == [] and store.check_integrity() == "ok"
        assert opened.set_aside is not None and opened.set_aside.read_bytes() == damaged  # kept, unchanged
        assert "could not be read" in opened.notice and opened.set_aside.name in opened.notice
        chat = store.create_chat("fresh")
        store.add_message(chat, StoredMessage("user", "works"))
    assert _set_aside(path) == [opened.set_aside]


def test_a_foreign_database_is_set_aside(tmp_path):
    path = tmp_path / "chats.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE chats (what TEXT)")  # another program's table of that name
    conn.execute("INSERT INTO chats VALUES ('theirs')")
    conn.commit()
    conn.close()
    from nudge_local_tui.store import open_store

    opened = open_store(path)
    with opened.store:
        assert "not a nudge-local chat history" in (opened.notice or "")
    kept = sqlite3.connect(opened.set_aside)
    assert kept.execute("SELECT what FROM chats").fetchall() == [("theirs",)]


def test_garbage_is_set_aside_too(tmp_path):
    path = tmp_path / "chats.sqlite3"
    path.write_bytes(os.urandom(5000))
    from nudge_local_tui.store import open_store

    opened = open_store(path)
    with opened.store:
        assert opened.set_aside is not None and opened.set_aside.stat().st_size == 5000


async def test_the_app_starts_on_a_fresh_history_and_says_why(private_dirs):
    path = default_store_path()
    path.parent.mkdir(parents=True)
    _fill(path)
    _damage_pages(path)
    app = _app_on_default_store()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+l")  # the chat list reads the whole history
        await pilot.pause(0.2)
        assert any("moved to chats.sqlite3.damaged-" in m for m in _notices(app))
        await pilot.press("escape")
        await send(pilot, "still works")
        await wait_reply_done(pilot)
    assert len(_set_aside(path)) == 1
    with ChatStore(path) as store:
        assert [c.title for c in store.list_chats()] == ["still works"]


# -- a damaged chat ------------------------------------------------------------------------------
def _damage_one_chat(path: Path) -> int:
    """A history whose chat "broken" has a message with a damaged overflow page; the other
    chats and the chat list stay readable. Returns the broken chat's id."""
    marker = b"OVERFLOWING-"
    with ChatStore(path) as store:
        ok = store.create_chat("fine")
        store.add_message(ok, StoredMessage("user", "a short one"))
        broken = store.create_chat("broken")
        store.add_message(broken, StoredMessage("user", (marker * 3000).decode()))
    data = bytearray(path.read_bytes())
    overflow = [p for p in range(1, len(data) // PAGE)
                if bytes(data[p * PAGE + 4: p * PAGE + 4 + len(marker) * 2]) in marker * 3]
    assert overflow, "no overflow page found"
    data[overflow[0] * PAGE: overflow[0] * PAGE + 4] = b"\xff\xff\xff\x7f"  # next page: far past the end
    path.write_bytes(bytes(data))
    return broken


async def test_opening_a_damaged_chat_says_so_and_the_ui_keeps_running(tmp_path):
    path = tmp_path / "chats.sqlite3"
    broken = _damage_one_chat(path)
    store = ChatStore(path)  # opened as it is (the start-up check would set it aside)
    app, _ = make_app(tmp_path, store=store)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+l")
        table = app.screen.query_one("DataTable")
        table.move_cursor(row=table.get_row_index(str(broken)))
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert any(m.startswith("This chat cannot be opened") and "damaged" in m for m in _notices(app))
        table.move_cursor(row=table.get_row_index(str(broken - 1)))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is app.chat)
        await pilot.pause(0.1)
        assert [m.text for m in app.chat.query(UserMessage)] == ["a short one"]


# -- a full disk ---------------------------------------------------------------------------------
async def _send_on_a_full_disk(pilot, app) -> str:
    text = "a prompt that needs room " * 1000
    await send(pilot, text)
    await pilot.pause(0.3)
    assert app.chat.query_one("#prompt").text == text.strip()  # kept, to send again later
    assert not app.chat.query(ReplyView)  # nothing was sent
    assert any("disk is full" in m and "back in the prompt box" in m for m in _notices(app))
    return text


async def test_a_full_database_keeps_the_prompt_and_the_ui(tmp_path):
    store = ChatStore(tmp_path / "chats.sqlite3")
    pages = _connection(store).execute("PRAGMA page_count").fetchone()[0]
    _connection(store).execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "disk is full"
    app, _ = make_app(tmp_path, FakeNudger(n_ctx=10**6), store=store)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await _send_on_a_full_disk(pilot, app)
        _connection(store).execute("PRAGMA max_page_count = 1000000")  # room again: send it now
        await pilot.press("enter")
        await wait_reply_done(pilot)
        assert app.chat.query(ReplyView) and app.chat.query_one("#prompt").text == ""
        assert app.store.messages(app.chat_id)[0].content.startswith("a prompt that needs room")


@pytest.fixture
def small_disk(tmp_path):
    """A 512 KiB tmpfs (needs root), unmounted afterwards."""
    mount = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


async def test_a_full_real_disk_keeps_the_prompt_and_the_ui(tmp_path, small_disk):
    store = ChatStore(small_disk / "chats.sqlite3")
    filler = small_disk / "filler"
    with open(filler, "wb", buffering=0) as f:  # fill the disk, then free one page
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass
    filler.write_bytes(filler.read_bytes()[: -4096])
    app, _ = make_app(tmp_path, FakeNudger(n_ctx=10**6), store=store)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_ready(pilot)
            await _send_on_a_full_disk(pilot, app)
            filler.unlink()
            await pilot.press("enter")
            await wait_reply_done(pilot)
            notices = _notices(app)
            assert [m.role for m in app.store.messages(app.chat_id)][-2:] == ["user", "assistant"], notices
    finally:
        store.close()
