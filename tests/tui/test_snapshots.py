"""Snapshot tests of the main screens (pytest-textual-snapshot). Deterministic: a fake engine
that reports a fixed duration, a fixed terminal size, fixed catalog rows, no clock text.
Regenerate after a deliberate change with ``pytest tests/tui/test_snapshots.py --snapshot-update``."""

from __future__ import annotations

import pytest

from tui.pairs import PairRow
from tui.screens import models as models_screen

from fake_engine import FakeNudger
from tui_helpers import make_app, send, wait_ready, wait_reply_done, wait_until

SIZE = (110, 32)


def _app(tmp_path):
    app, _ = make_app(tmp_path, FakeNudger(seconds=0.5))
    return app


async def _one_exchange(pilot) -> None:
    await wait_ready(pilot)
    await send(pilot, "What is six times seven?")
    await wait_reply_done(pilot)


def test_chat_screen(snap_compare, tmp_path):
    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=_one_exchange)


def test_chat_screen_with_controls(snap_compare, tmp_path):
    async def run_before(pilot):
        await _one_exchange(pilot)
        await pilot.press("ctrl+o", "right")

    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_compare_screen(snap_compare, tmp_path):
    async def run_before(pilot):
        await _one_exchange(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "finished", False))
        await pilot.pause(0.2)

    assert snap_compare(_app(tmp_path), terminal_size=(140, 30), run_before=run_before)


def test_models_screen(snap_compare, tmp_path, monkeypatch):
    rows = [
        PairRow("demo", "gemma-3-270m", "smollm2-135m-instruct", 0.4, "", "present", 351_475_456, 351_475_456),
        PairRow("qwen2.5", "qwen2.5-7b", "qwen2.5-0.5b-instruct", 0.4, "", "partial", 1_200_000_000, 5_400_000_000),
        PairRow("llama-3", "llama-3.1-8b", "llama-3.2-1b-instruct", 0.4, "", "missing", 0, 5_700_000_000),
    ]
    monkeypatch.setattr(models_screen, "pair_rows", lambda: rows)

    async def run_before(pilot):
        await wait_ready(pilot)
        await pilot.press("f2")

    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare, tmp_path):
    async def run_before(pilot):
        await wait_ready(pilot)
        await pilot.press("f1")

    assert snap_compare(_app(tmp_path), terminal_size=(110, 40), run_before=run_before)
