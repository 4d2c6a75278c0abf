"""Scheduling: the nudging model works on a second thread while the base model computes.

The rule (``_rule``) says *what* each model evaluates; this module says *when*. With overlap,
the nudging model evaluates the base's text as it is written (so a nudge starts with its context
nearly caught up), and in exact mode drafts the rest of its 16 tokens while the base checks
word boundaries. Every job goes to one worker thread in submission order, and without overlap
the same jobs run inline, so how text is split into evaluations - and so every logit - is the
same whatever the plan and the timing: results never depend on the schedule.

llama.cpp releases the GIL while it computes, so the two models really run side by side. It is
only worth it when both models' threads fit on the machine's cores at once (``Nudger``'s plan).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ._session import Session


class _Worker:
    """One background thread running jobs in submission order."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nudging-model")
        self._jobs: list[Future[Any]] = []

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        job = self._pool.submit(fn, *args)
        self._jobs.append(job)
        return job

    def drain(self) -> None:
        jobs, self._jobs = self._jobs, []
        for job in jobs:
            job.result()

    def close(self) -> None:
        try:
            self.drain()
        except BaseException:
            pass  # the generation is over; its result already says how it ended
        self._pool.shutdown(wait=True)


class Schedule:
    """Where the nudging model's work runs: inline (``overlap=False``) or on a worker thread."""

    def __init__(self, nudging: Session | None, overlap: bool):
        self._nudging = nudging
        self._worker = _Worker() if overlap and nudging is not None else None
        #: Seconds the main thread waited for the worker (``bench`` reports them).
        self.wait_seconds = 0.0

    @property
    def overlapping(self) -> bool:
        return self._worker is not None

    def start(self, base: Session | None) -> None:
        """Evaluate both prompts (at once, with overlap)."""
        if self._worker is not None and self._nudging is not None and base is not None:
            job = self._worker.submit(self._nudging.start)
            try:
                base.start()
            finally:
                self.wait_for(job)
            return
        if base is not None:
            base.start()
        if self._nudging is not None:
            self._nudging.start()

    def follow(self, text: str) -> None:
        """Let the nudging model evaluate ``text`` (the answer so far, maybe plus text held
        back) as far as whole blocks go (``Session.follow``): in the background with overlap,
        here and now without. Both schedules make the same evaluations in the same order, so
        answers do not depend on the plan (llama.cpp's logits depend on how tokens are split
        into batches)."""
        if self._nudging is None:
            return
        if self._worker is not None:
            self._worker.submit(self._nudging.follow, text)
        else:
            self._nudging.follow(text)

    def catch_up(self) -> None:
        """Wait until the nudging model has evaluated everything it was asked to follow."""
        if self._worker is not None:
            t0 = time.perf_counter()
            self._worker.drain()
            self.wait_seconds += time.perf_counter() - t0

    def in_background(self, fn: Callable[[], object]) -> Future[Any] | None:
        """Run ``fn`` on the worker (None without overlap: the caller runs it when needed)."""
        if self._worker is None:
            return None
        return self._worker.submit(fn)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def wait_for(self, job: Future[Any]) -> None:
        """Wait for one background job (counted in :attr:`wait_seconds`)."""
        t0 = time.perf_counter()
        try:
            job.result()
        finally:
            self.wait_seconds += time.perf_counter() - t0
