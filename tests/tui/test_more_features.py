"""Search across chats, compare kept with the chat, model details on F2, help, eval results,
the schema upgrade, the marks in exports."""

from __future__ import annotations

import json
import sqlite3

import pytest
from textual import events
from textual.widgets import DataTable
from tui_helpers import make_app, send, wait_ready, wait_reply_done, wait_until

from nudge_local_tui.marks import portable_marked_markdown
from nudge_local_tui.screens.compare import CompareScreen
from nudge_local_tui.screens.history import HistoryScreen
from nudge_local_tui.stats import stats_line
from nudge_local_tui.store import ChatStore, StoredMessage
from nudge_local_tui.store import search as search_module
from nudge_local_tui.store.schema import MIGRATIONS, SCHEMA_VERSION, migrate, schema_version
from nudge_local_tui.widgets.controls import ControlsPanel
from nudge_local_tui.widgets.conversation import CompareNote
from nudge_local_tui.widgets.reply import ReplyView
from nudge_local_tui.widgets.user_message import UserMessage


# -- search ----------------------------------------------------------------------------------------
def _three_chats(path) -> ChatStore:
    store = ChatStore(path)
    for title, words in (("fruit", "I like apples and pears"), ("cars", "a red car"), ("more", "Apple pie_100%")):
        chat = store.create_chat(title)
        store.add_message(chat, StoredMessage("user", words))
        store.add_message(chat, StoredMessage("assistant", f"About {words.split()[-1]}."))
    return store


@pytest.mark.parametrize("fts", [True, False], ids=["fts5", "like"])
def test_search_finds_words_in_every_chat(tmp_path, monkeypatch, fts):
    monkeypatch.setattr(search_module, "fts5_available", lambda: fts)
    import nudge_local_tui.store.chats as chats_module

    monkeypatch.setattr(chats_module, "fts5_available", lambda: fts)
    store = _three_chats(tmp_path / "c.sqlite3")
    assert store.uses_fts is fts
    hits = store.search("apple")  # FTS: a prefix; LIKE: a substring, any case
    assert {h.chat_title for h in hits} == {"fruit", "more"}
    assert {h.chat_title for h in store.search("red car")} == {"cars"}
    assert store.search('"quoted" OR * NEAR(') == []  # FTS syntax in what the user types is just text
    assert {h.chat_title for h in store.search("pie_100%")} == {"more"}
    fruit = next(c.id for c in store.list_chats() if c.title == "fruit")
    assert [h.chat_title for h in store.search("apple", chat_id=fruit)] == ["fruit"]
    # Edits and deletions reach the index.
    first = store.messages(fruit)[0]
    store.edit_message(first.id, "bananas only")
    assert {h.chat_title for h in store.search("apple")} == {"more"}
    store.delete_messages([first.id])
    assert store.search("bananas") == []


def test_an_index_left_stale_where_fts5_was_missing_is_rebuilt(tmp_path, monkeypatch):
    import nudge_local_tui.store.chats as chats_module

    path = tmp_path / "c.sqlite3"
    _three_chats(path).close()
    monkeypatch.setattr(chats_module, "fts5_available", lambda: False)
    with ChatStore(path) as store:  # written without the index's triggers
        store.add_message(store.create_chat("later"), StoredMessage("user", "zebra crossing"))
    monkeypatch.setattr(chats_module, "fts5_available", lambda: True)
    with ChatStore(path) as store:
        assert store.uses_fts and [h.chat_title for h in store.search("zebra")] == ["later"]


async def test_search_all_chats_and_open_one(tmp_path):
    store = _three_chats(tmp_path / "chats.sqlite3")
    app, _ = make_app(tmp_path, store=store)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await app.chat.run_action("search_chats")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await pilot.pause()
        await pilot.press(*"pears")
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        found = [table.get_row_at(i) for i in range(table.row_count)]
        assert [(str(r[0]), str(r[1])) for r in found] == [("fruit", "you"), ("fruit", "reply")]
        assert all("pears" in str(r[2]) for r in found)
        assert list(table.columns.values())[2].width >= len("I like apples and pears")  # not cut to "I li"
        await pilot.press("enter", "enter")  # to the results, then open
        await wait_until(pilot, lambda: app.screen is app.chat)
        await pilot.pause()
        assert [m.text for m in app.chat.query(UserMessage)] == ["I like apples and pears"]


# -- compare kept with the chat --------------------------------------------------------------------
async def test_compare_is_kept_with_the_chat_and_runs_again_at_another_gamma(tmp_path):
    app, nudger = make_app(tmp_path)
    async with app.run_test(size=(150, 34)) as pilot:
        await wait_ready(pilot)
        await send(pilot, "compare me")
        await wait_reply_done(pilot)
        await pilot.press("ctrl+r")
        screen = app.screen
        await wait_until(pilot, lambda: screen.finished)
        await pilot.pause(0.1)
        (record,) = app.store.compares(app.chat_id)
        assert record.gamma == 0.4 and set(record.results) == {"nudged", "base", "nudging"}
        assert record.results["base"]["text"] == "Base model says: compare me is a question"
        await pilot.press("right", "right", "r")  # γ 0.50, run again
        await wait_until(pilot, lambda: len(app.store.compares(app.chat_id)) == 2)
        assert nudger.calls[-3]["gamma"] == 0.5
        await pilot.press("escape")
        notes = app.chat.query(CompareNote)
        assert [n.record.gamma for n in notes] == [0.4, 0.5]
        chat_id = app.chat_id
    # Reopened later: the notes are there, and one opens without running anything.
    app, nudger = make_app(tmp_path, store=app.store)
    async with app.run_test(size=(150, 34)) as pilot:
        await wait_ready(pilot)
        await app.open_chat(chat_id)
        await pilot.pause()
        notes = app.chat.query(CompareNote)
        assert len(notes) == 2
        notes[1].focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        await pilot.pause(0.2)
        assert app.screen.query_one("#compare-base", ReplyView).text == "Base model says: compare me is a question"
        assert "γ 0.50" in str(app.screen.query_one("#compare-nudged .reply-title").render())
        assert nudger.calls == []


# -- models screen details -------------------------------------------------------------------------
async def test_f2_shows_quantisation_size_context_and_memory(tmp_path, monkeypatch):
    from nudge_local_tui import pairs

    monkeypatch.setattr(pairs, "machine_memory", lambda: (8_000_000_000, 6_000_000_000))
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await pilot.press("f2")
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index("demo"))
        await pilot.pause()
        details = str(app.screen.query_one("#pair-details").render())
        assert "base: gemma-3-270m · Q4_K_M · " in details and "nudging: smollm2-135m-instruct · Q4_1" in details
        assert "fits: needs about" in details and "this machine has 8.0 GB, 6.0 GB free" in details


def test_memory_verdicts():
    from nudge_local_tui.pairs import fit_verdict, machine_memory

    total, available = machine_memory()
    assert total and total > 0
    assert fit_verdict(10, 100, 50).startswith("fits")
    assert fit_verdict(70, 100, 50).startswith("fits only if")
    assert fit_verdict(200, 100, 50).startswith("does not fit")
    assert "does not report" in fit_verdict(10, None, None)


# -- help --------------------------------------------------------------------------------------------
async def test_help_explains_gamma_and_the_nudge_ratio_in_two_lines(tmp_path):
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        await pilot.press("f1")
        text = str(app.screen.query_one("#help-gamma").render())
        lines = text.split("\n")
        assert len(lines) == 2 and lines[0].startswith("γ (gamma)") and lines[1].startswith("Nudge ratio")


# -- eval results --------------------------------------------------------------------------------
def _write_eval_run(label: str, accuracy_by_gamma: dict[float, list[bool]]) -> None:
    """A finished eval run of ``label`` in the default results folder, written as
    `nudge-local eval` writes it (config.json, samples.jsonl, then results.json)."""
    from nudge_local.eval import System, default_out_dir, finish, load_results

    systems = [System("base"), *(System("nudged", g) for g in accuracy_by_gamma)]
    n = len(next(iter(accuracy_by_gamma.values())))
    folder = default_out_dir(label)
    folder.mkdir(parents=True)
    config = {"pair": {"label": label}, "systems": [s.key for s in systems],
              "tasks": [{"name": "coin_flip", "indices": list(range(n))}]}
    (folder / "config.json").write_text(json.dumps(config))
    rows = []
    for system in systems:
        right = accuracy_by_gamma.get(system.gamma, [False] * n)
        for i, acc in enumerate(right):
            rows.append({"task": "coin_flip", "system_key": system.key, "doc_id": i, "acc": acc, "readable": True,
                         "nudge_ratio": system.gamma or 0.0, "seconds": 1.0, "tokens": 10})
    (folder / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    finish(load_results(folder), plot=False)


async def test_the_eval_screen_and_the_suggested_gamma(tmp_path):
    _write_eval_run("fake", {0.3: [True, False, False, False], 0.5: [True, True, True, False]})
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        panel = app.chat.query_one(ControlsPanel)
        await wait_until(pilot, lambda: panel.suggested_gamma is not None)
        assert panel.suggested_gamma == 0.5
        assert "Best γ in the last eval: 0.50 on coin_flip" in str(panel.query_one("#eval-suggestion").render())
        await pilot.press("ctrl+o")
        app.chat.query_one("#use-suggested").focus()
        await pilot.press("enter")
        assert app.settings.gamma == 0.5
        await pilot.press("ctrl+o", "f4")
        table = app.screen.query_one(DataTable)
        rows = [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
        assert ("coin_flip", "nudged γ=0.5", "75% ± 25%", "50%", "4", "0", "10.0") in rows
        assert ("coin_flip", "base", "0% ± 0%", "0%", "4", "0", "10.0") in rows


async def test_without_an_eval_the_screen_says_how_to_run_one(tmp_path):
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await pilot.press("f4")
        assert "nudge-local eval --pair fake" in str(app.screen.query_one("#eval-summary").render())
        assert app.chat.query_one(ControlsPanel).suggested_gamma is None


def test_the_ui_works_without_the_eval_package(monkeypatch):
    import builtins

    from nudge_local_tui import eval_link

    real_import = builtins.__import__

    def no_eval(name, *args, **kwargs):
        if name == "nudge_local.eval":
            raise ImportError("no eval here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_eval)
    assert eval_link.best_gamma_note("demo") == (None, "")


# -- store upgrade, stats words, export marks ------------------------------------------------------
def test_a_version_1_database_opens_and_keeps_its_chats(tmp_path):
    path = tmp_path / "c.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, MIGRATIONS[:1])  # what the previous release wrote
    conn.execute("INSERT INTO chats (title, created_at, updated_at) VALUES ('old', 'a', 'a')")
    conn.execute("INSERT INTO messages (chat_id, role, content, spans, stats, created_at) "
                 "VALUES (1, 'user', 'old words', '[]', '{}', 'a')")
    conn.close()
    with ChatStore(path) as store:
        assert schema_version(store._db.conn) == SCHEMA_VERSION == 2
        (m,) = store.messages(1)
        assert (m.content, m.edited, m.models) == ("old words", False, None)
        assert [h.chat_title for h in store.search("words")] == ["old"]  # indexed on upgrade


def test_stats_say_why_a_reply_ended_in_words():
    line = stats_line({"tokens_per_second": 12.34, "nudge_ratio": 0.4, "nudges": 3}, "nudged", "new_turn")
    assert line == "12.3 tok/s · nudge ratio 40% · 3 nudges · ended where the base model began a new “Question:”"
    assert stats_line({}, "base", "cancelled") == "0.0 tok/s · stopped by you"


def test_exported_marks_stay_out_of_code_blocks():
    spans = [("Run ", "base"), ("this", "nudging"), (":\n\n```sh\n", "base"), ("echo hi", "nudging"),
             ("\n```\n", "base"), ("- done", "nudging")]
    assert portable_marked_markdown(spans) == "Run <ins>this</ins>:\n\n```sh\necho hi\n```\n- <ins>done</ins>"


async def test_typing_a_search_right_after_slash_goes_into_the_search(tmp_path):
    """"/wizard" typed at once: the r and d in it must not rename or delete a chat."""
    from textual.widgets import Input

    store = _three_chats(tmp_path / "chats.sqlite3")
    app, _ = make_app(tmp_path, store=store)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+l")
        screen = app.screen
        for key in ("slash", *"red car"):  # posted at once, before the focus moves
            app.post_message(events.Key(key, "/" if key == "slash" else key))
        await pilot.pause(0.3)
        assert app.screen is screen  # no rename or delete dialog
        assert screen.query_one("#chat-search", Input).value == "red car"
        table = screen.query_one(DataTable)
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == ["cars"]
