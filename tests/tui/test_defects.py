"""The defects of issue 14, one pilot test each (each failed on the code before its fix)."""

from __future__ import annotations

import html
import re
import threading
import time

from fake_engine import FakeNudger
from textual import events
from textual.widgets import DataTable, Footer, Input, Static
from tui_helpers import make_app, send, wait_ready, wait_reply_done, wait_until

from nudge_local_tui.app import NudgeApp
from nudge_local_tui.engine import ModelSpec
from nudge_local_tui.settings import GenerationSettings
from nudge_local_tui.store import ChatStore
from nudge_local_tui.widgets.reply import ReplyView
from nudge_local_tui.widgets.status_bar import StatusBar


def _footer_keys(screen) -> set[str]:
    return {active.binding.description for active in screen.active_bindings.values() if active.binding.show}


def _shown(widget) -> str:
    """The text a widget shows on screen, all lines, spaces removed."""
    return "".join(strip.text for strip in widget.render_lines(widget.region.reset_offset)).replace(" ", "")


def _no_reply_running(app) -> bool:
    return not any(w.is_running for w in app.workers if w.group == "generate")


def _roles(store: ChatStore, chat_id: int) -> list[tuple[str, str, bool]]:
    return [(m.role, m.content, m.cancelled) for m in store.messages(chat_id)]


# -- 1. a chat switched mid-reply ----------------------------------------------------------------
async def test_new_chat_mid_reply_keeps_the_reply_stopped_in_its_own_chat(tmp_path):
    nudger = FakeNudger(filler=50, hold_after=3)
    app, _ = make_app(tmp_path, nudger)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await send(pilot, "Tell me a long story about a wizard.")
        await wait_until(pilot, nudger.holding.is_set)
        first_chat = app.chat_id
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: _no_reply_running(app))
        await pilot.pause(0.2)
        assert app.chat_id is None and not app.chat.query(ReplyView)  # the new chat is empty
        assert _roles(app.store, first_chat) == [
            ("user", "Tell me a long story about a wizard.", False), ("assistant", "Sure! The answer to", True)]
        # The new chat works, and its messages go into it alone.
        nudger.hold_after = None
        await send(pilot, "second chat")
        await wait_reply_done(pilot)
        assert app.chat_id != first_chat
        assert [r for r, _, _ in _roles(app.store, app.chat_id)] == ["user", "assistant"]
        assert len(app.store.messages(first_chat)) == 2


async def test_opening_another_chat_mid_reply_never_saves_the_reply_into_it(tmp_path):
    nudger = FakeNudger(filler=50)
    app, _ = make_app(tmp_path, nudger)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await send(pilot, "old chat")
        await wait_reply_done(pilot)
        old_chat = app.chat_id
        await pilot.press("ctrl+n")
        nudger.hold_after = 3
        await send(pilot, "new chat")
        await wait_until(pilot, nudger.holding.is_set)
        new_chat = app.chat_id
        await pilot.press("ctrl+l")
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(str(old_chat)))
        await pilot.press("enter")
        await wait_until(pilot, lambda: _no_reply_running(app) and app.screen is app.chat)
        await pilot.pause(0.2)
        assert app.chat_id == old_chat
        assert [c for _, c, _ in _roles(app.store, old_chat)][0] == "old chat"
        assert len(app.store.messages(old_chat)) == 2  # nothing of the other chat's reply
        assert _roles(app.store, new_chat)[-1] == ("assistant", "Sure! The answer to", True)
        assert len(app.chat.query(ReplyView)) == 1


# -- 2. a long load: the screen is complete and visibly alive ------------------------------------
async def test_the_screen_stays_complete_and_alive_while_a_pair_loads(tmp_path):
    gate = threading.Event()

    def slow_loader(spec: ModelSpec) -> FakeNudger:
        gate.wait(20)
        return FakeNudger()

    app = NudgeApp(store=ChatStore(tmp_path / "c.sqlite3"), spec=ModelSpec(pair="fake"), loader=slow_loader)

    def status_on_screen() -> str:
        svg = html.unescape(app.export_screenshot()).replace("\xa0", " ")
        return " ".join(re.findall(r">([^<>]*)</text>", svg))

    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.5)
            before = status_on_screen()
            await pilot.pause(1.6)
            after = status_on_screen()
            assert "loading" in before and "loading" in after
            assert re.search(r"loading… [1-9]\d* s", after), after  # the seconds count on screen
            assert before != after  # it repaints by itself: a spinner and the time
            footer = app.chat.query_one(Footer)
            assert footer.display and footer.region.height == 1
            gate.set()
            await wait_ready(pilot)
            assert app.chat.query_one(StatusBar).loading_since is None
    finally:
        gate.set()


# -- 3. a chat that can die ----------------------------------------------------------------------
async def test_a_conversation_longer_than_the_context_keeps_working(tmp_path):
    nudger = FakeNudger(n_ctx=120)
    app, _ = make_app(tmp_path, nudger)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        app.update_settings(GenerationSettings(max_tokens=20))
        for i in range(6):
            await send(pilot, f"question {i} " + "word " * 25)
            await wait_reply_done(pilot)
        replies = app.chat.query(ReplyView)
        assert all("-error" not in r.classes for r in replies), [r._status for r in replies]
        last_call = nudger.calls[-1]["messages"]
        assert last_call[-1]["content"].startswith("question 5")
        assert not any(m["content"].startswith("question 0") for m in last_call)  # the oldest left out
        assert "left out to fit the context" in str(replies[-1].query_one(".reply-title").render())
        assert app.store.messages(app.chat_id)[-1].stats["dropped_messages"] > 0
        # The context meter shows how full the context is.
        assert re.search(r"context \d+/120", str(app.chat.query_one(StatusBar).render()))


async def test_one_huge_prompt_is_refused_in_words_and_the_chat_goes_on(tmp_path):
    nudger = FakeNudger(n_ctx=500)
    app, _ = make_app(tmp_path, nudger)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await send(pilot, "pasted " * 5000)
        await wait_reply_done(pilot)
        failed = app.chat.query(ReplyView)[-1]
        assert "-error" in failed.classes
        assert re.search(r"Your message takes 50\d\d tokens, but the model's context holds 500", failed._status)
        await send(pilot, "a normal question")
        await wait_reply_done(pilot)
        ok = app.chat.query(ReplyView)[-1]
        assert "-error" not in ok.classes and ok.text.startswith("Sure! The answer to a normal question")


# -- 5. keys -------------------------------------------------------------------------------------
async def test_text_typed_right_after_enter_is_kept(tmp_path):
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        prompt = app.chat.query_one("#prompt")
        prompt.focus()
        prompt.text = "first"
        # Enter reaches the box; the chat screen handles what it sends a moment later. Keys
        # typed in that moment land in the box first:
        await prompt._on_key(events.Key("enter", None))
        prompt.insert("next")
        await wait_reply_done(pilot)
        assert app.store.messages(app.chat_id)[0].content == "first"
        assert prompt.text == "next"


async def test_pageup_scrolls_the_conversation_from_the_prompt(tmp_path):
    app, _ = make_app(tmp_path, FakeNudger(filler=60))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        for i in range(3):
            await send(pilot, f"q{i}")
            await wait_reply_done(pilot)
        conversation = app.chat.query_one("#conversation")
        assert app.focused is app.chat.query_one("#prompt")
        bottom = conversation.scroll_y
        assert bottom > 0
        for key in ("pageup", "shift+pageup", "ctrl+pageup"):
            await pilot.press(key)
            await pilot.pause(0.1)
            assert conversation.scroll_y < bottom, key
            await pilot.press("pagedown", "pagedown", "pagedown", "pagedown", "pagedown")
            await pilot.pause(0.1)
            assert conversation.scroll_y == conversation.max_scroll_y


async def test_tab_from_the_prompt_goes_to_the_newest_message(tmp_path):
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        for text in ("one", "two"):
            await send(pilot, text)
            await wait_reply_done(pilot)
        await pilot.press("tab")
        assert app.focused is app.chat.query(ReplyView)[-1]
        await pilot.press("shift+tab")
        assert getattr(app.focused, "text", None) == "two"


# -- 6. the models screen ------------------------------------------------------------------------
async def test_models_screen_keeps_the_row_after_a_reload_and_shows_enter(tmp_path, monkeypatch):
    from nudge_local_tui.pairs import PairRow
    from nudge_local_tui.screens import models as models_screen

    rows = [PairRow(n, "b", "c", 0.4, "", "missing", 0, 10**9) for n in ("first", "second", "third")]
    monkeypatch.setattr(models_screen, "pair_rows", lambda: rows)
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await pilot.press("f2")
        screen = app.screen
        table = screen.query_one(DataTable)
        table.move_cursor(row=2)
        await pilot.pause()
        screen.reload()  # what a cancelled or finished download does
        await pilot.pause()
        assert table.cursor_row == 2
        assert "Use pair" in _footer_keys(screen)


async def test_a_long_download_status_wraps_and_sizes_are_readable(tmp_path, monkeypatch):
    from nudge_local.download import DownloadProgress
    from nudge_local_tui.screens import models as models_screen

    app, _ = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        await pilot.press("f2")
        screen = app.screen
        screen.query_one("#download-box").display = True
        screen.post_message(models_screen._Progress(DownloadProgress("model-x", "x.gguf", "downloading", 52428800,
                                                                   104857600, 1_000_000, 50.0)))
        screen.post_message(models_screen._DownloadEnded("pair-with-a-long-name", "Download of model-x cancelled; "
                                                         "the bytes received are kept, run it again to resume.",
                                                         cancelled=True))
        await pilot.pause(0.2)
        label = screen.query_one("#download-label", Static)
        text = str(label.render())
        assert "52.4 MB" in text and "52428800" not in text
        assert len(text) > label.size.width  # too long for one line: it must wrap, not be cut
        assert _shown(label).endswith(text.replace(" ", ""))


async def test_the_chats_list_shows_enter_in_its_footer_and_local_times(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")  # UTC+9, no daylight saving
    time.tzset()
    try:
        app, _ = make_app(tmp_path)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_ready(pilot)
            await send(pilot, "hello")
            await wait_reply_done(pilot)
            stamp = app.store.get_chat(app.chat_id).updated_at  # stored in UTC
            await pilot.press("ctrl+l")
            screen = app.screen
            assert "Open" in _footer_keys(screen)
            shown = str(screen.query_one(DataTable).get_row_at(0)[3])
            utc_hour = int(stamp[11:13])
            assert int(shown[11:13]) == (utc_hour + 9) % 24
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


# -- 7. smaller ones -----------------------------------------------------------------------------
async def test_the_system_prompt_box_shows_the_default_in_use(tmp_path):
    from nudge_local import DEFAULT_SYSTEM

    app, _ = make_app(tmp_path)
    async with app.run_test(size=(110, 34)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+o")
        box = app.chat.query_one("#system", Input)
        assert box.value == "" and box.placeholder == DEFAULT_SYSTEM


async def test_ctrl_q_during_a_reply_keeps_the_partial_reply(tmp_path):
    nudger = FakeNudger(filler=50, hold_after=3)
    store = ChatStore(tmp_path / "c.sqlite3")
    app, _ = make_app(tmp_path, nudger, store=store)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await send(pilot, "a long one")
        await wait_until(pilot, nudger.holding.is_set)
        chat_id = app.chat_id
        await pilot.press("ctrl+q")
    assert app.return_code == 0
    assert _roles(store, chat_id) == [("user", "a long one", False), ("assistant", "Sure! The answer to", True)]


async def test_the_delete_dialog_shows_its_whole_question(tmp_path):
    app, _ = make_app(tmp_path)
    title = "A rather long chat title that goes on and on, well past the width of the dialog box"
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_ready(pilot)
        await send(pilot, title)
        await wait_reply_done(pilot)
        await pilot.press("ctrl+l", "d")
        await pilot.pause()
        stored_title = app.store.get_chat(app.chat_id).title
        dialog = app.screen.query_one(".dialog")
        assert dialog.region.right <= 60  # inside a narrow window, not cut off at its edge
        shown = _shown(dialog.children[0])
        assert stored_title.replace(" ", "") in shown and shown.endswith("Thiscannotbeundone.")
