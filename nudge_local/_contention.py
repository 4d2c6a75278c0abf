"""Watching for a busy core: a multi-threaded model falls back to one thread while it is slower.

llama.cpp's threads wait for each other at barriers, spinning. When another program keeps one
core busy, a model evaluating on every core loses its speed many times over - measured here on
the demo base (2-core VM): 17 ms a token on 2 threads idle, 45-50 ms with one core busy, while
one thread runs at 27 ms either way. (OpenMP's passive waiting does not help: 36 ms idle; nor
do shorter spin counts.) That made the ``turns`` plan - every core for whichever model computes,
the fastest idle - the wrong default for a laptop that also runs a browser.

So each model times its own single-token evaluations, per thread count. Now and then (every
:data:`PROBE` evaluations) one runs on a single thread to keep that timing fresh. When the
multi-threaded evaluations run slower than the single-thread one (by :data:`MARGIN`) - or,
before any single-thread timing, slower than their own best by :data:`CONTENDED` - the model
uses one thread for the next :data:`BACKOFF` evaluations and then tries all of them again.

llama.cpp's results do not depend on the thread count (each output row is computed whole by one
thread), so this changes only speed: answers stay the same, which the tests check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Multi-threaded evaluations this much slower than a single-thread one mean contention
#: (a margin: idle timings wobble by a few percent, a busy core costs 1.7x or more).
MARGIN = 1.25
#: Before any single-thread timing: this much slower than the best seen means contention.
CONTENDED = 1.6
#: Evaluations a contended model stays on one thread before it tries more again.
BACKOFF = 64
#: A multi-threaded model times one single-thread evaluation after this many others.
PROBE = 100
#: Weight of the newest timing in the running averages.
_ALPHA = 0.25


@dataclass
class ThreadWatch:
    """One model's timings and its current choice (call :meth:`threads`, then :meth:`record`)."""

    best: dict[int, float] = field(default_factory=dict)
    recent: dict[int, float] = field(default_factory=dict)
    #: evaluations left to run on one thread (contention was seen)
    backoff: int = 0
    #: multi-threaded evaluations since the last single-thread timing
    since_one: int = 0

    def threads(self, n: int) -> int:
        """How many of the model's ``n`` threads to use for the next evaluation."""
        if n <= 1:
            return n
        if self.backoff > 0:
            self.backoff -= 1
            return 1
        self.since_one += 1
        if self.since_one >= PROBE:
            return 1
        return n

    def batch_threads(self, n: int) -> int:
        """Threads for a batched evaluation: one while backing off, else all ``n``."""
        return 1 if self.backoff > 0 else n

    def record(self, threads: int, seconds: float) -> bool:
        """Keep the timing of a single-token evaluation on ``threads`` threads; True when it
        shows contention (the model falls back to one thread)."""
        self.best[threads] = min(self.best.get(threads, seconds), seconds)
        old = self.recent.get(threads)
        recent = self.recent[threads] = seconds if old is None else old + _ALPHA * (seconds - old)
        if threads == 1:
            self.since_one = 0
            return False
        one = self.recent.get(1)
        if (recent > one * MARGIN) if one is not None else (recent > self.best[threads] * CONTENDED):
            self.backoff = BACKOFF
            del self.recent[threads]  # judge the next try afresh
            return True
        return False
