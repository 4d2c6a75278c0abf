"""The download progress display: a redrawn bar on a terminal, a few plain lines elsewhere;
it claims only the checks that ran, and never sends a control character it was given."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from nudge_local.cli import main
from nudge_local.cli.download import ProgressPrinter
from nudge_local.download import DownloadProgress

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for the fake servers
from hub_server import FakeHub, fake_gguf  # noqa: E402


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def events(total=4_000_000_000):
    yield DownloadProgress("big", "big.gguf", "connecting", 0, total)
    for i in range(1, 101):
        done = total * i // 100
        yield DownloadProgress("big", "big.gguf", "downloading", done, total, 25e6,
                               (total - done) / 25e6)
    yield DownloadProgress("big", "big.gguf", "done", total, total, checks=("size", "sha256"))


def test_terminal_gets_one_redrawn_line_with_speed_and_eta(monkeypatch):
    import itertools

    from nudge_local.cli import download as cli_download

    clock = itertools.count(0, 0.05)  # events every 50 ms: every other one is drawn
    monkeypatch.setattr(cli_download.time, "monotonic", lambda: next(clock))
    out = Terminal()
    p = ProgressPrinter(out)
    for e in events():
        p(e)
    p.finish()
    text = out.getvalue()
    assert text.count("\n") == 1 and 40 <= text.count("\r") <= 60  # redrawn in place, throttled
    first_dl = text.split("\r")[2]
    assert "big: downloading [" in first_dl and "2.0% 80.0 MB/4.0 GB  25.0 MB/s  ETA 2m36s" in first_dl
    assert "done, sha256 verified (4.0 GB)" in text


def test_log_gets_a_line_per_tenth():
    out = io.StringIO()
    p = ProgressPrinter(out)
    for e in events():
        p(e)
    lines = out.getvalue().splitlines()
    assert lines[0] == "big: connecting…" and lines[-1] == "big: done, sha256 verified (4.0 GB)"
    assert 10 <= len([ln for ln in lines if "downloading" in ln]) <= 11
    assert "100.0% 4.0 GB/4.0 GB" in out.getvalue()


def test_done_without_a_sha256_says_which_checks_ran():
    out = io.StringIO()
    p = ProgressPrinter(out)
    p(DownloadProgress("m", "m.gguf", "done", 10, 10, checks=("size", "gguf-header", "git-sha1")))
    p(DownloadProgress("n", "n.gguf", "done", 10, 10, checks=("size", "gguf-header")))
    lines = out.getvalue().splitlines()
    assert lines == ["m: done, size, GGUF header and git blob sha1 checked (no sha256 known) (10 B)",
                     "n: done, size and GGUF header checked (no sha256 known) (10 B)"]


def test_waiting_and_retrying_get_a_line_of_their_own():
    out = Terminal()
    p = ProgressPrinter(out)
    p(DownloadProgress("m", "m.gguf", "downloading", 5, 10))
    p(DownloadProgress("m", "m.gguf", "retrying", 5, 10, detail="The Hub answered HTTP 429; "
                       "retrying in 2 s (try 2 of 5)."))
    assert "\nm: The Hub answered HTTP 429; retrying in 2 s (try 2 of 5).\n" in out.getvalue()


@pytest.mark.parametrize("make_stream", [Terminal, io.StringIO])
def test_control_characters_in_names_are_shown_escaped(make_stream):
    out = make_stream()
    p = ProgressPrinter(out)
    evil = "x\x1b]0;owned\x07\x1b[2J"
    for phase in ("present", "connecting", "downloading", "waiting", "done"):
        p(DownloadProgress(evil, "f.gguf", phase, 5, 10, detail=f"{evil} waits"))
    p.finish()
    text = out.getvalue()
    assert "\x1b" not in text and "\x07" not in text
    assert "x\\x1b]0;owned\\x07\\x1b[2J" in text


@pytest.fixture
def git_hub(private_dirs, isolated_models_dir, monkeypatch):
    data = fake_gguf(50_000, seed=7)
    conf = private_dirs / "xdg_config_home" / "nudge-local"
    conf.mkdir(parents=True)
    (conf / "models.toml").write_text(f"""
[models.in-git]
role = "base"
repo = "acme/in-git"
file = "in-git.gguf"
size = {len(data)}
""")
    server = FakeHub()
    server.add("acme/in-git", "in-git.gguf", data, git_etag_only=True)
    monkeypatch.setenv("HF_ENDPOINT", server.start())
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    yield data
    server.stop()


def test_the_cli_never_claims_a_sha256_it_did_not_check(git_hub, capsys):
    assert main(["download", "in-git"]) == 0
    out = capsys.readouterr()
    assert Path(out.out.strip()).read_bytes() == git_hub
    assert "in-git: done, size, GGUF header and git blob sha1 checked (no sha256 known)" in out.err
    assert "sha256 verified" not in out.err


def test_a_path_with_control_characters_is_printed_escaped(git_hub, capsys, tmp_path, monkeypatch):
    odd = tmp_path / "models\x1b[2J"
    monkeypatch.setenv("NUDGE_LOCAL_MODELS_DIR", str(odd))
    assert main(["download", "in-git"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "models\\x1b[2J" in out
