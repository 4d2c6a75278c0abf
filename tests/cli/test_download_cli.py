"""The download progress display: a redrawn bar on a terminal, a few plain lines elsewhere."""

from __future__ import annotations

import io

from nudge_local._download_progress import DownloadProgress
from nudge_local.cli.download import ProgressPrinter


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def events(total=4_000_000_000):
    yield DownloadProgress("big", "big.gguf", "connecting", 0, total)
    for i in range(1, 101):
        done = total * i // 100
        yield DownloadProgress("big", "big.gguf", "downloading", done, total, 25e6,
                               (total - done) / 25e6)
    yield DownloadProgress("big", "big.gguf", "done", total, total)


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
