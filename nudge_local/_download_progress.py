"""Progress reporting for downloads: a small event dataclass and a speed/ETA tracker.

huggingface-hub's ``http_get`` drives any object with tqdm's ``update(n)`` shape; the tracker
plays that role, turns byte counts into ``DownloadProgress`` events, and is where cancellation
is noticed (between chunks), so a cancelled transfer stops within one chunk.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Literal

Phase = Literal["present", "connecting", "downloading", "verifying", "done"]


@dataclass(frozen=True)
class DownloadProgress:
    """One progress event. ``speed`` is bytes per second over the last few seconds."""

    model: str
    file: str
    phase: Phase
    downloaded: int = 0
    total: int | None = None
    speed: float = 0.0
    eta_seconds: float | None = None

    @property
    def fraction(self) -> float | None:
        return self.downloaded / self.total if self.total else None


class DownloadCancelled(Exception):
    """Raised inside the transfer loop; download() turns it into DownloadCancelledError."""


class Tracker:
    """tqdm-shaped sink for ``huggingface_hub.file_download.http_get``."""

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

    def start(self, initial: int) -> None:
        self.n = initial
        self._samples.clear()
        self._samples.append((time.monotonic(), initial))
        self.emit(force=True)

    # --- the tqdm protocol http_get uses
    def __call__(self, *args, total=None, initial=0, **kwargs) -> "Tracker":
        if total:
            self.total = total
        self.start(initial)
        return self

    def __enter__(self) -> "Tracker":
        return self

    def __exit__(self, *exc) -> None:
        return None

    def close(self) -> None:
        return None

    def update(self, n: int) -> None:
        if self.cancelled():
            raise DownloadCancelled()
        self.n += n
        now = time.monotonic()
        self._samples.append((now, self.n))
        while len(self._samples) > 2 and now - self._samples[0][0] > self.WINDOW_S:
            self._samples.popleft()
        self.emit()

    # --- events
    def speed(self) -> float:
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        return (b1 - b0) / (t1 - t0) if t1 > t0 and b1 > b0 else 0.0

    def emit(self, force: bool = False, phase: Phase | None = None) -> None:
        if phase is not None:
            self.phase = phase
        now = time.monotonic()
        done = self.total is not None and self.n >= self.total
        if not (force or done or now - self._last_emit >= self.MIN_INTERVAL_S):
            return
        self._last_emit = now
        if self.callback is None:
            return
        speed = self.speed() if self._samples else 0.0
        eta = (self.total - self.n) / speed if speed > 0 and self.total else None
        self.callback(DownloadProgress(self.model, self.file, self.phase, self.n, self.total,
                                       speed, eta))
