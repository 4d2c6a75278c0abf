"""One generation at a time on one pair, for requests waiting in a bounded FIFO.

A Nudger runs one generation at a time (llama.cpp contexts are not re-entrant), so the server
gives it one worker thread. The worker loads the models (``/health`` is 503 until then), then
takes jobs in arrival order. Each job sends its events (``Started``, the pieces, then
``Finished`` or ``Failed``) to the event loop of the request that submitted it through
``call_soon_threadsafe``; every job ends with exactly one ``Finished`` or ``Failed``, even one
withdrawn from the queue or refused at shutdown, so a request never waits for nothing.

``Job.cancel()`` (the client went away) withdraws a waiting job, or cancels the running stream:
the engine stops within a word and the worker takes the next job at once.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from nudge_local import Nudger, NudgeResult, NudgeStream, PairInfo, Piece

from ._errors import SERVER_ERROR, ApiError
from ._schemas import GenerationParams

log = logging.getLogger("nudge_local.server")

State = Literal["loading", "ready", "failed", "closed"]


@dataclass(frozen=True)
class Started:
    """The job's generation has begun; the prompt took ``prompt_tokens`` base-model tokens."""

    prompt_tokens: int
    max_tokens: int


@dataclass(frozen=True)
class Finished:
    result: NudgeResult


@dataclass(frozen=True)
class Failed:
    error: BaseException


Event = Started | Piece | Finished | Failed


class Job:
    """One request's generation: its arguments, and the events it sends to the request."""

    def __init__(self, params: GenerationParams, *, wants_pieces: bool, withdraw: Callable[[Job], bool]):
        self.params = params
        self.wants_pieces = wants_pieces
        self._withdraw = withdraw
        self._loop = asyncio.get_running_loop()
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._lock = threading.Lock()
        self._stream: NudgeStream | None = None
        self.cancelled = False
        self.done = False

    async def next_event(self) -> Event:
        return await self._events.get()

    def cancel(self) -> None:
        """Stop this job (thread-safe; nothing happens once it has finished)."""
        with self._lock:
            if self.done or self.cancelled:
                return
            self.cancelled = True
            stream = self._stream
        if stream is not None:
            stream.cancel()
        elif self._withdraw(self):
            self.emit(Failed(ApiError(499, "The client closed the request.", code="client_closed")))

    # -- the worker's side --------------------------------------------------------------------
    def attach(self, stream: NudgeStream) -> bool:
        """Hand the job its stream; False when it was cancelled before it could start."""
        with self._lock:
            if self.cancelled:
                return False
            self._stream = stream
            return True

    def finish(self, event: Finished | Failed) -> None:
        with self._lock:
            self.done = True
        self.emit(event)

    def emit(self, event: Event) -> None:
        try:
            self._loop.call_soon_threadsafe(self._events.put_nowait, event)
        except RuntimeError:
            pass  # the request's event loop is gone (the server stopped): nobody to tell


class GenerationQueue:
    """Loads a pair in a worker thread and runs its generations one at a time, in arrival
    order, with at most ``max_waiting`` requests waiting behind the running one.

    ``source`` is a loaded :class:`~nudge_local.Nudger` (the caller keeps ownership) or a
    function that loads one (the queue closes it when it stops)."""

    def __init__(self, source: Nudger | Callable[[], Nudger], *, max_waiting: int = 8,
                 default_max_tokens: int | None = None):
        self._source = source
        self.max_waiting = max_waiting
        self.default_max_tokens = default_max_tokens
        self._waiting: deque[Job] = deque()
        self._cond = threading.Condition()
        self._running: Job | None = None
        self._closing = False
        self._loaded = threading.Event()
        self._thread: threading.Thread | None = None
        self._durations: deque[float] = deque(maxlen=16)
        self.state: State = "loading"
        self.load_error: BaseException | None = None
        self.load_seconds = 0.0
        self.info: PairInfo | None = None
        self.default_gamma = 0.4

    # -- lifetime -----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="nudge-local-generation", daemon=True)
            self._thread.start()

    def wait_loaded(self, timeout: float | None = None) -> bool:
        """Wait until the models are loaded or failed to load; False on timeout."""
        return self._loaded.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Refuse what waits, cancel what runs, stop the worker (and close the models it loaded)."""
        with self._cond:
            self._closing = True
            waiting = list(self._waiting)
            self._waiting.clear()
            running = self._running
            self._cond.notify_all()
        for job in waiting:
            job.finish(Failed(ApiError(503, "The server is shutting down.", type=SERVER_ERROR, code="unavailable")))
        if running is not None:
            running.cancel()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        if self.state != "failed":
            self.state = "closed"

    # -- requests -----------------------------------------------------------------------------
    def submit(self, params: GenerationParams, *, wants_pieces: bool) -> Job:
        """Queue a generation (from the event loop); :class:`ApiError` 503 when the queue is full."""
        job = Job(params, wants_pieces=wants_pieces, withdraw=self._withdraw)
        with self._cond:
            if self._closing or self.state != "ready":
                raise ApiError(503, "The server is not ready to answer.", type=SERVER_ERROR, code="unavailable",
                               headers={"Retry-After": "2"})
            if len(self._waiting) + (self._running is not None) > self.max_waiting:
                raise ApiError(503, f"The server is busy: {len(self._waiting)} requests are already waiting for the "
                               "one running; retry later.", type=SERVER_ERROR, code="queue_full",
                               headers={"Retry-After": str(self._retry_after())})
            self._waiting.append(job)
            self._cond.notify()
        return job

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @property
    def busy(self) -> bool:
        return self._running is not None

    def _withdraw(self, job: Job) -> bool:
        with self._cond:
            if job in self._waiting:
                self._waiting.remove(job)
                return True
        return False

    def _retry_after(self) -> int:
        """Seconds until a place is likely free: the recent mean generation time per job ahead."""
        if not self._durations:
            return 1
        mean = sum(self._durations) / len(self._durations)
        return max(1, min(60, math.ceil(mean * (len(self._waiting) + 1))))

    # -- the worker thread --------------------------------------------------------------------
    def _work(self) -> None:
        nudger = self._load()
        if nudger is None:
            return
        try:
            while (job := self._next_job()) is not None:
                t0 = time.perf_counter()
                run_job(nudger, job, self.default_max_tokens)
                self._durations.append(time.perf_counter() - t0)
        finally:
            with self._cond:
                self._running = None
            if nudger is not self._source:
                nudger.close()

    def _load(self) -> Nudger | None:
        t0 = time.perf_counter()
        try:
            nudger = self._source if isinstance(self._source, Nudger) else self._source()
            info = nudger.info
        except Exception as exc:
            self.load_error, self.state = exc, "failed"
            log.error("loading the models failed: %s", exc)
            self._loaded.set()
            return None
        with self._cond:
            if self._closing:
                if nudger is not self._source:
                    nudger.close()
                self._loaded.set()
                return None
            self.info, self.default_gamma = info, nudger.default_gamma
            self.load_seconds = time.perf_counter() - t0
            self.state = "ready"
        log.info("%s ready (loaded in %.1f s)", info.label, self.load_seconds)
        self._loaded.set()
        return nudger

    def _next_job(self) -> Job | None:
        with self._cond:
            self._running = None
            while not self._waiting and not self._closing:
                self._cond.wait()
            if self._closing:
                return None
            self._running = self._waiting.popleft()
            return self._running


def run_job(nudger: Nudger, job: Job, default_max_tokens: int | None) -> None:
    """Run one job to its end on the worker thread; every outcome becomes an event."""
    try:
        prompt_tokens, max_tokens = _fit_in_context(nudger, job.params, default_max_tokens)
        stream = nudger.stream(**job.params.stream_kwargs(max_tokens))
    except Exception as exc:
        job.finish(Failed(exc))
        return
    try:
        if not job.attach(stream):
            job.finish(Failed(ApiError(499, "The client closed the request.", code="client_closed")))
            return
        job.emit(Started(prompt_tokens, max_tokens))
        for piece in stream:
            if job.wants_pieces:
                job.emit(piece)
        assert stream.result is not None
        job.finish(Finished(stream.result))
    except Exception as exc:
        log.debug("generation failed", exc_info=True)
        log.error("generation failed: %s: %s", type(exc).__name__, exc)
        job.finish(Failed(exc))
    finally:
        stream.close()


def _fit_in_context(nudger: Nudger, params: GenerationParams, default_max_tokens: int | None) -> tuple[int, int]:
    """The prompt's size in base tokens, and the answer limit: the request's, refused when it
    does not fit in what the prompt leaves of the context; else the rest of the context."""
    counts = nudger.count_tokens(prompt=params.prompt, messages=params.messages)
    who = "nudging" if params.only == "nudging" else "base"
    used, n_ctx = counts[who], counts[f"{who}_n_ctx"]
    room = n_ctx - used
    if room <= 0:
        raise ApiError(400, f"The prompt takes {used} tokens but the {who} model's context holds {n_ctx}; "
                       "shorten the conversation or start the server with a larger --n-ctx.",
                       param="messages", code="context_length_exceeded")
    if params.max_tokens is None:
        limit = room if default_max_tokens is None else min(default_max_tokens, room)
        return counts["base"], limit
    if params.max_tokens > room:
        raise ApiError(400, f"max_tokens is {params.max_tokens} but the prompt takes {used} of the {who} model's "
                       f"{n_ctx}-token context, which leaves {room}; lower max_tokens or start the server with "
                       "a larger --n-ctx.", param="max_tokens", code="context_length_exceeded")
    return counts["base"], params.max_tokens
