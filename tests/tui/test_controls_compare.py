"""Controls (gamma, max tokens, temperature, system prompt, mode), marks toggle, compare."""

from __future__ import annotations

from fake_engine import FakeNudger
from textual.command import CommandList, CommandPalette
from tui_helpers import make_app, send, wait_ready, wait_reply_done, wait_until

from nudge_local_tui.screens.compare import CompareScreen
from nudge_local_tui.widgets.controls import ControlsPanel
from nudge_local_tui.widgets.reply import ReplyView
from nudge_local_tui.widgets.reply_markdown import ReplyMarkdown
from nudge_local_tui.widgets.status_bar import StatusBar


def _styles(view: ReplyView) -> set[str]:
    return {
        str(span.style)
        for block in view.query_one(ReplyMarkdown).query("MarkdownBlock")
        for span in block._content.spans
        if str(span.style).startswith(".nudged")
    }


def _has_nudged_style(view: ReplyView) -> bool:
    return bool(_styles(view))


async def test_gamma_stepper_is_used_on_the_next_reply(tmp_path):
    app, nudger = make_app(tmp_path)
    async with app.run_test(size=(110, 34)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+o")  # controls panel opens with the gamma stepper focused
        panel = app.chat.query_one(ControlsPanel)
        assert panel.display and app.focused.id == "gamma"
        await pilot.press("right", "right", "left", "right")  # +0.05 x2, -0.05, +0.05
        assert app.settings.gamma == 0.5
        assert str(panel.query_one("#gamma-value").render()) == "0.50"
        assert app.chat.query_one(StatusBar).gamma == 0.5
        await pilot.press("ctrl+o")  # close; focus back on the prompt
        await send(pilot, "q")
        await wait_reply_done(pilot)
        assert nudger.calls[-1]["gamma"] == 0.5
        # The reply records the gamma it was made with, in the view and the store.
        assert "γ 0.50" in str(app.chat.query(ReplyView)[-1].query_one(".reply-title").render())
        assert app.store.messages(app.chat_id)[-1].gamma == 0.5


async def test_gamma_stays_within_0_and_1(tmp_path):
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(110, 34)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+o")
        for _ in range(15):
            await pilot.press("right")
        assert app.settings.gamma == 1.0
        for _ in range(25):
            await pilot.press("left")
        assert app.settings.gamma == 0.0


async def test_max_tokens_temperature_system_and_mode_reach_the_engine(tmp_path):
    app, nudger = make_app(tmp_path)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+o")
        panel = app.chat.query_one(ControlsPanel)
        max_tokens = panel.query_one("#max-tokens")
        max_tokens.value = "3"
        panel.query_one("#temperature").value = "0.7"
        panel.query_one("#system").value = "Be brief."
        await pilot.pause()
        # An invalid value is refused with a message; the last valid one stays.
        max_tokens.value = "0"
        await pilot.pause()
        assert "Max tokens must be between" in str(panel.query_one("#controls-error").render())
        assert app.settings.max_tokens == 3
        panel.query_one("#mode-base").value = True
        await pilot.pause()
        assert app.settings.mode == "base"
        assert app.chat.query_one(StatusBar).mode == "base"
        await pilot.press("ctrl+o")
        await send(pilot, "hello")
        await wait_reply_done(pilot)
        call = nudger.calls[-1]
        assert (call["max_tokens"], call["temperature"], call["system"], call["only"]) == (3, 0.7, "Be brief.", "base")
        view = app.chat.query(ReplyView)[-1]
        assert view.text == "Base model says:"  # 3 pieces: the max_tokens limit
        assert str(view.query_one(".reply-stats").render()).endswith(" · max tokens reached")
        assert "base model only" in str(view.query_one(".reply-title").render())


async def test_switch_mode_from_the_command_palette(tmp_path):
    app, nudger = make_app(tmp_path)
    async with app.run_test(size=(110, 34)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"nudging model only")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette)
                         and app.screen.query_one(CommandList).option_count > 0)
        first = app.screen.query_one(CommandList).get_option_at_index(0)
        assert "Mode: nudging model only" in str(first.prompt)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.settings.mode == "nudging")
        # The controls panel shows the palette's change too.
        assert app.chat.query_one("#mode-nudging").value
        await send(pilot, "hi")
        await wait_reply_done(pilot)
        assert nudger.calls[-1]["only"] == "nudging"
        view = app.chat.query(ReplyView)[-1]
        assert view.text.startswith("Nudging model says")


async def test_ctrl_t_goes_round_underline_subtle_and_off(tmp_path):
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        await send(pilot, "q")
        await wait_reply_done(pilot)
        view = app.chat.query(ReplyView)[-1]
        assert _styles(view) == {".nudged"}
        await pilot.press("ctrl+t")
        await pilot.pause(0.2)
        assert app.marks == "subtle" and _styles(view) == {".nudged-subtle"}
        assert "shaded" in str(app.chat.query_one(StatusBar).render())
        await pilot.press("ctrl+t")
        await pilot.pause(0.2)
        assert app.marks == "off" and not _has_nudged_style(view)
        assert "marks off" in str(app.chat.query_one(StatusBar).render())
        await pilot.press("ctrl+t")
        await pilot.pause(0.2)
        assert _styles(view) == {".nudged"}
    # The look is remembered.
    again, _ = make_app(tmp_path, store=app.store)
    assert again.marks == "underline"


async def test_compare_runs_the_last_prompt_in_three_modes(tmp_path):
    app, nudger = make_app(tmp_path)
    async with app.run_test(size=(150, 34)) as pilot:
        await wait_ready(pilot)
        await send(pilot, "compare me")
        await wait_reply_done(pilot)
        await pilot.press("ctrl+r")
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await wait_until(pilot, lambda: screen.finished)
        await pilot.pause(0.1)
        assert [c["only"] for c in nudger.calls[1:]] == [None, "base", "nudging"]
        for call in nudger.calls[1:]:
            assert call["messages"] == [{"role": "user", "content": "compare me"}]
        texts = {mode: screen.query_one(f"#compare-{mode}", ReplyView).text for mode in ("nudged", "base", "nudging")}
        assert texts["nudged"].startswith("Sure!")
        assert texts["base"] == "Base model says: compare me is a question"
        assert texts["nudging"] == "Nudging model says: happy to help with compare me"
        # Side by side: three columns in one row.
        xs = [screen.query_one(f"#compare-{m}").region.x for m in ("nudged", "base", "nudging")]
        assert xs[0] < xs[1] < xs[2]
        await pilot.press("escape")
        assert app.screen is app.chat


async def test_escape_on_compare_stops_it(tmp_path):
    nudger = FakeNudger(filler=100, hold_after=2)
    app, _ = make_app(tmp_path, nudger)
    async with app.run_test(size=(150, 34)) as pilot:
        await wait_ready(pilot)
        nudger.release.set()
        await send(pilot, "x")
        await wait_reply_done(pilot)
        nudger.release.clear()
        nudger.holding.clear()
        await pilot.press("ctrl+r")
        await wait_until(pilot, nudger.holding.is_set)
        await pilot.press("escape")
        assert app.screen is app.chat
        await wait_until(pilot, lambda: not any(w.is_running for w in app.chat.workers) and not any(
            w.is_running for w in app.workers if w.group == "compare"))
        assert len(nudger.calls) == 2  # the other two modes never started
        # The models are still usable.
        nudger.hold_after = None
        await send(pilot, "after")
        await wait_reply_done(pilot)
        assert app.chat.query(ReplyView)[-1].text.startswith("Sure! The answer to after")
