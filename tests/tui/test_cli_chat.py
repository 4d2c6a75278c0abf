"""`nudge-local chat` argument errors: one sentence, exit 2, no UI started."""

from __future__ import annotations

import pytest

from nudge_local.cli import main


@pytest.mark.parametrize(
    "argv, message",
    [
        (["chat", "--base", "/nope.gguf"], "Give both --base and --nudging"),
        (["chat", "--base", "/nope.gguf", "--nudging", "/nope2.gguf"], "Model file not found: /nope.gguf"),
        (["chat", "--base", __file__, "--nudging", __file__], "is not a GGUF model file"),
        (["chat", "--base", "/", "--nudging", "/"], "is a folder"),
        (["chat", "--pair", "no-such-pair"], "Unknown pair 'no-such-pair'"),
        (["chat", "--pair", "demo", "--threads", "0"], "--threads must be at least 1"),
    ],
)
def test_bad_arguments(argv, message, capsys, monkeypatch):
    if "demo" in argv:
        from nudge_local_tui.pairs import pair_installed

        if not pair_installed("demo"):
            pytest.skip("the demo pair is not installed")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("nudge-local: error: ") and message in err and err.count("\n") == 1


def test_a_chat_database_from_a_newer_version_is_refused(private_dirs, capsys):
    import sqlite3

    from nudge_local_tui.store import SCHEMA_VERSION, default_store_path

    path = default_store_path()
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    fake = private_dirs / "m.gguf"
    fake.write_bytes(b"GGUF" + b"\0" * 60)  # passes the file check; the store is checked next
    assert main(["chat", "--base", str(fake), "--nudging", str(fake)]) == 2
    assert "upgrade nudge-local" in capsys.readouterr().err


def test_a_crashed_ui_exits_non_zero_and_says_where_the_chats_are(tmp_path, capsys):
    from nudge_local.cli.chat import CRASHED, run_app
    from nudge_local_tui.app import NudgeApp
    from nudge_local_tui.store import ChatStore

    class Crashing(NudgeApp):
        def on_mount(self) -> None:
            raise RuntimeError("a deliberate crash for the test")

    with ChatStore(tmp_path / "c.sqlite3") as store:
        app = Crashing(store=store, loader=lambda spec: None, default_spec=lambda: None)
        assert run_app(app, headless=True) == CRASHED != 0
    err = capsys.readouterr().err
    assert "the chat UI stopped on an error" in err and "c.sqlite3" in err


def test_nudge_local_chat_exits_non_zero_after_a_crash_in_a_real_terminal(private_dirs):
    """What a shell sees: `nudge-local chat` in tmux, its UI crashing at start."""
    import shlex
    import sys
    import time
    from pathlib import Path

    from tmux_util import TmuxSession, require_tmux

    require_tmux()
    status = private_dirs / "status"
    script = Path(__file__).with_name("crashing_app_main.py")
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}; echo $? > {shlex.quote(str(status))}"
    session = TmuxSession(command, {})
    try:
        deadline = time.monotonic() + 60
        while not status.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        session.kill()
    assert status.read_text().strip() == "1"


def test_chat_takes_a_remote_base_and_keeps_no_key_in_the_spec(tmp_path):
    """`nudge-local chat --base-url URL --nudging PATH`: the spec names the server (no key), and
    the loader hands the URL to the same model loading as every command."""
    import argparse

    from nudge_local.cli.chat import _loader, _spec_from_args

    nudging = tmp_path / "n.gguf"
    nudging.write_bytes(b"GGUF" + bytes(16))
    args = argparse.Namespace(pair=None, base=None, nudging=str(nudging), base_url="http://127.0.0.1:9/v1",
                              nudging_url=None, base_model="big", base_api_key="sk-secret",
                              nudging_model=None, nudging_api_key=None)
    spec = _spec_from_args(args)
    assert spec is not None and spec.base == "http://127.0.0.1:9/v1" and spec.nudging == str(nudging)
    assert "sk-secret" not in spec.to_json() and spec.label == "127.0.0.1:9 + n.gguf"
    seen = {}

    def fake_load(ns):
        seen.update(vars(ns))
        return "loaded"

    import nudge_local.cli._common as common

    original = common.load_nudger
    common.load_nudger = fake_load
    try:
        assert _loader(args)(spec) == "loaded"
    finally:
        common.load_nudger = original
    assert seen["base"] is None and seen["base_url"] == "http://127.0.0.1:9/v1"
    assert seen["base_model"] == "big" and seen["base_api_key"] == "sk-secret"
    assert seen["nudging"] == str(nudging) and seen["nudging_url"] is None
