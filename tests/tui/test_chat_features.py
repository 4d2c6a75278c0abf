"""What every chat app has: regenerate, edit and resend, edit and delete a message, copy a code
block, find in a chat, the models' names in the legend, the reading width, the controls panel
at 80x24."""

from __future__ import annotations

from fake_engine import FakeNudger
from textual.widgets import TextArea
from tui_helpers import make_app, send, wait_ready, wait_reply_done, wait_until

from nudge_local_tui.screens.dialogs import Confirm, EditMessage
from nudge_local_tui.widgets.controls import ControlsPanel
from nudge_local_tui.widgets.reply import ReplyView, code_blocks
from nudge_local_tui.widgets.status_bar import StatusBar
from nudge_local_tui.widgets.user_message import UserMessage


async def _exchange(pilot, *prompts: str) -> None:
    await wait_ready(pilot)
    for prompt in prompts:
        await send(pilot, prompt)
        await wait_reply_done(pilot)


def _stored(app) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in app.store.messages(app.chat_id)]


async def test_regenerate_replaces_the_last_reply(tmp_path):
    app, nudger = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await _exchange(pilot, "first", "second")
        await pilot.press("ctrl+o")
        await pilot.press("right")  # γ 0.45 for the new reply
        await pilot.press("ctrl+o")
        await pilot.press("tab")  # the newest message: the last reply
        assert app.focused is app.chat.query(ReplyView)[-1]
        await pilot.press("r")
        await wait_reply_done(pilot)
        assert nudger.calls[-1]["gamma"] == 0.45
        assert [m["content"][:6] for m in nudger.calls[-1]["messages"]] == ["first", "Sure! ", "second"]
        assert [r for r, _ in _stored(app)] == ["user", "assistant", "user", "assistant"]
        assert app.store.messages(app.chat_id)[-1].gamma == 0.45
        assert len(app.chat.query(ReplyView)) == 2
        # An older reply cannot be regenerated (it would change what follows it).
        app.chat.query(ReplyView)[0].focus()
        await pilot.press("r")
        await pilot.pause()
        assert len(nudger.calls) == 3


async def test_edit_and_resend_the_last_prompt(tmp_path):
    app, nudger = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await _exchange(pilot, "first", "secnod")
        await app.chat.run_action("edit_last_prompt")
        await wait_until(pilot, lambda: isinstance(app.screen, EditMessage))
        await pilot.pause()
        app.screen.query_one(TextArea).text = "second"
        await pilot.click("#resend")
        await wait_reply_done(pilot)
        assert nudger.calls[-1]["messages"][-1]["content"] == "second"
        assert _stored(app)[2:] == [("user", "second"), ("assistant", "Sure! The answer to second is *forty-two*.")]
        assert [m.text for m in app.chat.query(UserMessage)] == ["first", "second"]
        assert len(app.chat.query(ReplyView)) == 2


async def test_edit_a_reply_and_delete_a_prompt_with_its_reply(tmp_path):
    app, nudger = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await _exchange(pilot, "first", "second")
        first_reply = app.chat.query(ReplyView)[0]
        first_reply.focus()
        await pilot.press("e")
        assert isinstance(app.screen, EditMessage) and not app.screen.resend  # a reply: no resend
        app.screen.query_one(TextArea).text = "A better first answer."
        await pilot.press("ctrl+s")
        await pilot.pause()
        stored = app.store.messages(app.chat_id)[1]
        assert stored.content == "A better first answer." and stored.edited and stored.spans == []
        assert first_reply.text == "A better first answer."
        assert "edited" in str(first_reply.query_one(".reply-title").render())
        # Delete the second prompt: its reply goes with it.
        app.chat.query(UserMessage)[1].focus()
        await pilot.press("d")
        assert isinstance(app.screen, Confirm) and "this prompt and its reply" in app.screen.question
        await pilot.press("y")
        await pilot.pause()
        assert _stored(app) == [("user", "first"), ("assistant", "A better first answer.")]
        assert len(app.chat.query(ReplyView)) == 1
        # The next reply sees the edited history.
        await send(pilot, "third")
        await wait_reply_done(pilot)
        assert [m["content"] for m in nudger.calls[-1]["messages"]] == ["first", "A better first answer.", "third"]


async def test_copy_one_code_block_at_a_time(tmp_path):
    class CodeNudger(FakeNudger):
        def stream(self, *args, **kwargs):
            stream = super().stream(*args, **kwargs)
            from nudge_local import Piece

            stream._pieces = [Piece("Two ways:\n\n```python\nprint(1)\n```\n\nor\n\n", "base", 0.9),
                              Piece("```sh\necho 2\n```\n", "nudging", 0.2)]
            return stream

    app, _ = make_app(tmp_path, CodeNudger())
    async with app.run_test(size=(100, 30)) as pilot:
        await _exchange(pilot, "code please")
        await pilot.press("tab", "k")
        assert app.clipboard == "print(1)\n"
        await pilot.press("k")
        assert app.clipboard == "echo 2\n"
        await pilot.press("k")
        assert app.clipboard == "print(1)\n"


def test_code_blocks_are_found_fenced_and_indented():
    assert code_blocks("a\n\n```\nx\n```\n\n    y = 1\n\ntext `inline`") == ["x\n", "y = 1\n"]


async def test_find_in_this_chat(tmp_path):
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await _exchange(pilot, "apples", "pears", "more apples")
        await pilot.press("ctrl+f")
        await pilot.press(*"apples")
        await pilot.pause()
        matched = [i for i in app.chat.conversation.items() if "-match" in i.classes]
        assert len(matched) == 4  # two prompts and the two replies that repeat them
        assert "1 of 4" in str(app.chat.query_one("#find-count").render())
        await pilot.press("enter")
        assert "2 of 4" in str(app.chat.query_one("#find-count").render())
        await pilot.press("escape")
        assert not any("-match" in i.classes for i in app.chat.conversation.items())
        assert app.focused is app.chat.query_one("#prompt")


async def test_the_legend_names_the_models(tmp_path):
    app, _ = make_app(tmp_path, FakeNudger(names=("gemma-3-270m", "smollm2-135m-instruct")))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        legend = str(app.chat.query_one(StatusBar).render())
        assert "smollm2-135m-instruct underlined · gemma-3-270m plain" in legend


async def test_replies_keep_a_reading_width_on_a_wide_window(tmp_path):
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(200, 50)) as pilot:
        await _exchange(pilot, "wide")
        reply = app.chat.query(ReplyView)[-1]
        assert reply.region.width <= 110
        assert reply.region.x > 20  # centred, not stuck to the left edge


async def test_the_controls_panel_floats_over_the_chat_at_80x24(tmp_path):
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _exchange(pilot, "narrow")
        reply = app.chat.query(ReplyView)[-1]
        width_before = reply.region.width
        await pilot.press("ctrl+o")
        await pilot.pause()
        panel = app.chat.query_one(ControlsPanel)
        assert panel.display and panel.region.right == 80
        assert reply.region.width == width_before  # the conversation keeps its width
    app, _ = make_app(tmp_path / "wide")
    async with app.run_test(size=(140, 36)) as pilot:
        await _exchange(pilot, "wide")
        reply = app.chat.query(ReplyView)[-1]
        await pilot.press("ctrl+o")
        await pilot.pause()
        panel = app.chat.query_one(ControlsPanel)
        assert reply.region.right <= panel.region.x  # side by side on a wide window
