"""`nudge-local chat` argument errors: one sentence, exit 2, no UI started."""

from __future__ import annotations

import pytest

from nudge_local.cli import main


@pytest.mark.parametrize(
    "argv, message",
    [
        (["chat", "--base", "/nope.gguf"], "Give both --base and --nudging"),
        (["chat", "--base", "/nope.gguf", "--nudging", "/nope2.gguf"], "does not exist"),
        (["chat", "--pair", "no-such-pair"], "Unknown pair 'no-such-pair'"),
        (["chat", "--pair", "demo", "--threads", "0"], "--threads must be at least 1"),
    ],
)
def test_bad_arguments(argv, message, capsys, monkeypatch):
    if "demo" in argv:
        from tui.pairs import pair_installed

        if not pair_installed("demo"):
            pytest.skip("the demo pair is not installed")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("nudge-local: error: ") and message in err and err.count("\n") == 1


def test_a_chat_database_from_a_newer_version_is_refused(private_dirs, capsys):
    import sqlite3

    from tui.store import SCHEMA_VERSION, default_store_path

    path = default_store_path()
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    assert main(["chat", "--base", __file__, "--nudging", __file__]) == 2
    assert "upgrade nudge-local" in capsys.readouterr().err
