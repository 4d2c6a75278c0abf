"""Chat history through the UI: saved, reopened in a new app, renamed, deleted, exported."""

from __future__ import annotations

from textual.widgets import DataTable, Input
from tui_helpers import make_app, send, wait_ready, wait_reply_done, wait_until

from nudge_local_tui.screens.dialogs import AskText, Confirm
from nudge_local_tui.screens.history import HistoryScreen
from nudge_local_tui.store import ChatStore
from nudge_local_tui.widgets.reply import ReplyView
from nudge_local_tui.widgets.reply_markdown import ReplyMarkdown
from nudge_local_tui.widgets.user_message import UserMessage


async def _chat_twice(tmp_path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await send(pilot, "first question")
        await wait_reply_done(pilot)
        await send(pilot, "second question")
        await wait_reply_done(pilot)
        await pilot.press("ctrl+n")
        await send(pilot, "other chat")
        await wait_reply_done(pilot)


async def test_history_is_saved_and_reopened_in_a_new_app(tmp_path):
    await _chat_twice(tmp_path)
    app, nudger = make_app(tmp_path)  # a new app on the same SQLite file
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+l")
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == 2
        titles = [table.get_row_at(i)[0] for i in range(2)]
        assert titles == ["other chat", "first question"]  # most recent first
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.screen is app.chat)
        await pilot.pause(0.2)
        assert [m.text for m in app.chat.query(UserMessage)] == ["first question", "second question"]
        replies = app.chat.query(ReplyView)
        assert [r.text.split(" is ")[0] for r in replies] == [
            "Sure! The answer to first question", "Sure! The answer to second question"]
        assert "nudge ratio" in str(replies[0].query_one(".reply-stats").render())
        for reply in replies:  # the stored text is drawn, not only held
            shown = "".join(block._content.plain for block in reply.query_one(ReplyMarkdown).query("MarkdownBlock"))
            assert reply.text.split(" is ")[0] in shown, (reply.text, shown)
        # Continuing the reopened chat sends its history and stores into the same chat.
        chat_id = app.chat_id
        await send(pilot, "third question")
        await wait_reply_done(pilot)
        contents = [m["content"] for m in nudger.calls[-1]["messages"] if m["role"] == "user"]
        assert contents == ["first question", "second question", "third question"]
        assert len(app.store.messages(chat_id)) == 6
        # Up recalls prompts of the reopened chat.
        await pilot.press("up", "up")
        assert app.chat.query_one("#prompt").text == "second question"


async def test_rename_and_delete(tmp_path):
    await _chat_twice(tmp_path)
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+l")
        await pilot.press("r")
        assert isinstance(app.screen, AskText)
        app.screen.query_one(Input).value = "Renamed chat"
        await pilot.press("enter")
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert table.get_row_at(0)[0] == "Renamed chat"
        await pilot.press("d")
        assert isinstance(app.screen, Confirm)
        await pilot.press("escape")  # no
        assert app.screen.query_one(DataTable).row_count == 2
        await pilot.press("d", "y")
        await pilot.pause()
        assert app.screen.query_one(DataTable).row_count == 1
    titles = [c.title for c in ChatStore(tmp_path / "chats.sqlite3").list_chats()]
    assert titles == ["first question"]


async def test_export_to_markdown(tmp_path):
    app, _ = make_app(tmp_path)
    target = tmp_path / "out" / "chat.md"
    target.parent.mkdir()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await send(pilot, "export me")
        await wait_reply_done(pilot)
        await pilot.press("f9")
        assert isinstance(app.screen, AskText)
        field = app.screen.query_one(Input)
        assert field.value.endswith("export-me.md")
        field.value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, target.exists)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# export me\n")
    assert "## You\n\nexport me\n" in text
    # The marks survive as a legend (with the models' names) and <ins> around the nudged words.
    assert "<ins>underlined</ins> words were written by the nudging model (fake-chat)" in text
    assert "the rest by the base model (fake-base)" in text
    assert ("## Assistant (nudged, gamma 0.40)\n\n<ins>Sure!</ins> The answer to export me is "
            "<ins>*forty-two*</ins>.\n") in text
    assert "end of answer" in text and "nudges" in text


async def test_export_to_an_unwritable_place_says_so(tmp_path):
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await send(pilot, "q")
        await wait_reply_done(pilot)
        await pilot.press("f9")
        app.screen.query_one(Input).value = str(tmp_path / "no" / "such" / "dir" / "x.md")
        await pilot.press("enter")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any(m.startswith("Could not write") for m in messages)
        assert app.store.messages(app.chat_id)  # nothing lost
