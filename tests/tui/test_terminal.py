"""The app in a real terminal (tmux): a smoke test on the real demo pair, and killing the app
mid-reply loses no earlier message."""

from __future__ import annotations

import os
import shlex
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest
from tmux_util import TmuxSession, require_tmux

REPO = Path(__file__).resolve().parents[2]


ENV_VARS = ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "HOME",
            "NUDGE_LOCAL_MODELS_DIR",  # the real models folder: the demo pair is found, not re-assembled
            "NUDGE_LOCAL_THREAD_PLAN")  # a pinned thread plan: no calibration at load


def _env(private_dirs: Path) -> dict[str, str]:
    """The test's private dirs (tests/conftest.py), passed on to the program in tmux."""
    return {var: os.environ[var] for var in ENV_VARS if var in os.environ}


def _db(private_dirs: Path) -> Path:
    return private_dirs / "xdg_data_home" / "nudge-local" / "chats.sqlite3"


def test_killing_the_app_mid_reply_loses_no_earlier_message(private_dirs):
    require_tmux()
    command = f"exec {shlex.quote(sys.executable)} {shlex.quote(str(REPO / 'tests/tui/fake_app_main.py'))}"
    session = TmuxSession(command, _env(private_dirs))
    try:
        session.wait_for(lambda s: "ready" in s, 30, "the ready status")
        session.type("first question")
        session.send("Enter")
        session.wait_for(lambda s: "end of answer" in s, 30, "the first reply's stats")
        session.type("second question")
        session.send("Enter")
        session.wait_for(lambda s: "second question" in s and "Sure! The answer to" in s.split("second question")[-1],
                         30, "the start of the second reply")
        pid = session.pid()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
    finally:
        session.kill()
    conn = sqlite3.connect(_db(private_dirs))
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = conn.execute("SELECT role, content, cancelled, stop_reason FROM messages ORDER BY id").fetchall()
    assert rows[0] == ("user", "first question", 0, None)
    assert rows[1][0] == "assistant" and rows[1][1].startswith("Sure! The answer to first question is *forty-two*")
    assert rows[1][1].endswith(" filler19.") and rows[1][3] == "nudging_eos"
    assert rows[2] == ("user", "second question", 0, None)  # stored when sent
    assert len(rows) == 3  # the reply that was streaming when killed is the only thing lost


FOOTER = ("Stop", "Compare", "Controls", "Find")  # the footer's labels (80 columns show these)


@pytest.mark.real
@pytest.mark.parametrize("size", [(120, 36), (80, 24)], ids=["120x36", "80x24"])
def test_real_demo_pair_in_a_real_terminal_is_complete_after_loading(private_dirs, size):
    """The whole screen is drawn when the models are loaded, without a resize (llama.cpp's output
    must never reach the terminal), and a reply streams in."""
    require_tmux()
    from nudge_local_tui.pairs import pair_installed

    if not pair_installed("demo"):
        pytest.skip("the demo pair is not installed (pip install 'nudge-local[demo]')")
    from nudge_local_tui.settings import GenerationSettings
    from nudge_local_tui.store import ChatStore, default_store_path

    with ChatStore(default_store_path()) as store:  # keep the real reply short
        store.set_state("generation_settings", GenerationSettings(max_tokens=32).to_json())
    cli = "from nudge_local.cli import run; run()"
    command = f"exec {shlex.quote(sys.executable)} -c {shlex.quote(cli)} chat --pair demo"
    session = TmuxSession(command, _env(private_dirs), size=size)
    try:
        loaded = session.wait_for(lambda s: "ready" in s, 120, "the demo pair's ready status")
        time.sleep(1.0)  # anything llama.cpp printed late would land now
        screen = session.screen()
        lines = screen.rstrip("\n").split("\n")
        assert all(label in lines[-1] for label in FOOTER), screen  # the footer, on the last line
        assert "Ask something" in screen and "demo" in lines[0], screen
        assert "llama" not in screen.lower() and "ggml" not in screen.lower(), screen  # no engine log
        session.type("What is the capital of France?")
        session.send("Enter")
        screen = session.wait_for(lambda s: "tok/s" in s, 180, "a finished reply")
    finally:
        session.kill()
    assert "nudge ratio" in screen and "ready" in loaded
    with ChatStore(default_store_path()) as store:
        (chat,) = store.list_chats()
        messages = store.messages(chat.id)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[1].content.strip() and messages[1].content.split()[0] in screen, screen
