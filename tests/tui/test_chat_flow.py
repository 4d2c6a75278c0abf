"""The chat flow on a fake engine, driven through Textual's pilot."""

from __future__ import annotations

from fake_engine import FakeNudger
from tui_helpers import make_app, send, wait_ready, wait_reply_done, wait_until

from nudge_local_tui.marks import OPEN
from nudge_local_tui.widgets.reply import ReplyView
from nudge_local_tui.widgets.reply_markdown import ReplyMarkdown
from nudge_local_tui.widgets.user_message import UserMessage


def _nudged_text(view: ReplyView) -> str:
    """The text that the rendered reply shows styled as nudged."""
    marked = []
    for block in view.query_one(ReplyMarkdown).query("MarkdownBlock"):
        content = block._content
        for span in content.spans:
            if span.style == ".nudged":
                marked.append(content.plain[span.start : span.end])
    return "|".join(marked)


async def test_send_streams_a_marked_reply_and_stores_it(tmp_path):
    app, nudger = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await send(pilot, "What is six times seven?")
        await wait_reply_done(pilot)
        chat = app.chat
        assert [m.text for m in chat.query(UserMessage)] == ["What is six times seven?"]
        (view,) = chat.query(ReplyView)
        assert view.text == "Sure! The answer to What is six times seven? is *forty-two*."
        # Markdown rendered (the asterisks became emphasis) and the nudged words marked.
        rendered = "".join(b._content.plain for b in view.query_one(ReplyMarkdown).query("MarkdownBlock"))
        assert "forty-two" in rendered and "*" not in rendered and OPEN not in rendered
        assert _nudged_text(view) == "Sure!|forty-two"
        assert "nudge ratio" in view.query_one(".reply-stats").render().plain
        assert str(view.query_one(".reply-stats").render()).endswith(" · end of answer")
        # The engine got the conversation and the default settings.
        assert nudger.calls[0]["messages"] == [{"role": "user", "content": "What is six times seven?"}]
        assert nudger.calls[0]["gamma"] == 0.4 and nudger.calls[0]["only"] is None
        # Both messages are in the store.
        stored = app.store.messages(app.chat_id)
        assert [m.role for m in stored] == ["user", "assistant"]
        assert stored[1].content == view.text and not stored[1].cancelled
        assert {"text": "Sure!", "source": "nudging"} in stored[1].spans


async def test_second_turn_sends_the_whole_conversation(tmp_path):
    app, nudger = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await send(pilot, "first")
        await wait_reply_done(pilot)
        await send(pilot, "second")
        await wait_reply_done(pilot)
        roles = [(m["role"], m["content"][:6]) for m in nudger.calls[1]["messages"]]
        assert roles == [("user", "first"), ("assistant", "Sure! "), ("user", "second")]


async def test_escape_cancels_at_once_and_the_models_stay_usable(tmp_path):
    nudger = FakeNudger(filler=50, hold_after=3)
    app, _ = make_app(tmp_path, nudger)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await send(pilot, "long one")
        await wait_until(pilot, nudger.holding.is_set)
        await pilot.press("escape")
        await wait_reply_done(pilot)
        (view,) = app.chat.query(ReplyView)
        assert view.cancelled and view.text == "Sure! The answer to"
        stats = str(view.query_one(".reply-stats").render())
        assert stats.endswith(" · stopped by you") and "cancelled" not in stats  # said once, in words
        stored = app.store.messages(app.chat_id)
        assert stored[-1].cancelled and stored[-1].content == "Sure! The answer to"
        # Next message works.
        nudger.hold_after = None
        await send(pilot, "again")
        await wait_reply_done(pilot)
        last = app.chat.query(ReplyView)[-1]
        assert last.text.startswith("Sure! The answer to again") and last.text.endswith(" filler49.")
        assert not app.store.messages(app.chat_id)[-1].cancelled


async def test_newline_keys_and_prompt_recall(tmp_path):
    app, nudger = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        prompt = app.chat.query_one("#prompt")
        await pilot.press("a", "ctrl+j", "b", "shift+enter", "c")
        assert prompt.text == "a\nb\nc"
        await pilot.press("enter")
        await wait_reply_done(pilot)
        assert nudger.calls[0]["messages"][-1]["content"] == "a\nb\nc"
        assert prompt.text == ""
        await send(pilot, "second prompt")
        await wait_reply_done(pilot)
        await pilot.press("up")
        assert prompt.text == "second prompt"
        await pilot.press("up")
        assert prompt.text == "a\nb\nc"
        await pilot.press("down")
        assert prompt.text == "second prompt"
        await pilot.press("down")
        assert prompt.text == ""


async def test_copy_reply_help_and_every_command_in_the_palette(tmp_path):
    from textual.command import CommandList, CommandPalette

    from nudge_local_tui.commands import COMMANDS
    from nudge_local_tui.screens.help import HelpScreen

    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await send(pilot, "copy this")
        await wait_reply_done(pilot)
        await pilot.press("f8")
        assert app.clipboard == "Sure! The answer to copy this is *forty-two*."
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        help_text = str(app.screen.query_one("#help-keys").render())
        assert all(c.title in help_text for c in COMMANDS) and "alt+enter" not in help_text
        await pilot.press("escape")
        assert app.screen is app.chat
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette)
                         and app.screen.query_one(CommandList).option_count >= len(COMMANDS))
        shown = {str(app.screen.query_one(CommandList).get_option_at_index(i).prompt)
                 for i in range(app.screen.query_one(CommandList).option_count)}
        assert all(any(c.title in s for s in shown) for c in COMMANDS)
