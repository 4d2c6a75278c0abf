"""A running generation as seen by its caller: an iterator of pieces, then a result."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Literal

from ._backend import EvalCounters
from ._errors import GenerationError
from ._generation import Generation
from ._prompts import PromptFormat
from ._stops import StopFilter, StopString
from ._text import strip_repeated_suffix
from ._types import NudgeResult, Piece, Span, Stats, merge_spans

Only = Literal["base", "nudging"]


class NudgeStream:
    """An iterator of :class:`Piece` objects; ``result`` is set when it is exhausted.

    ``cancel()`` may be called from any thread: the stream then ends within a word, with
    ``stop_reason == "cancelled"`` and the text written so far. ``close()`` (from the thread that
    iterates) ends it at once. The generation starts at the first ``next()``; a Nudger runs one
    at a time, so a stream started in another thread waits for the one running.
    """

    def __init__(self, controller: Generation, only: Only | None, stops: Sequence[StopString] = (),
                 gate: Callable[[], Callable[[], None]] | None = None):
        self._controller = controller
        self._only = only
        self._stops = StopFilter(stops)
        self._gate = gate
        self._pieces: list[Piece] = []
        self.result: NudgeResult | None = None
        self._iter = self._run()

    def __iter__(self) -> Iterator[Piece]:
        return self._iter

    def __next__(self) -> Piece:
        return next(self._iter)

    def cancel(self) -> None:
        self._controller.cancel.set()

    def close(self) -> None:
        """Stop now and free the Nudger for the next generation (``result`` stays None if the
        stream had not finished)."""
        self._controller.cancel.set()
        self._iter.close()

    @property
    def cancelled(self) -> bool:
        return self._controller.cancel.is_set()

    def _run(self) -> Generator[Piece, None, None]:
        release = self._gate() if self._gate is not None else None
        try:
            yield from self._generate()
        finally:
            if release is not None:
                release()

    def _generate(self) -> Generator[Piece, None, None]:
        c = self._controller
        counters0 = c.model_counters()
        t0 = time.perf_counter()
        stops = self._stops
        pieces = c.run(self._only)
        try:
            for piece in self._guarded(pieces, t0, counters0):
                for shown in stops.feed(piece):
                    self._pieces.append(shown)
                    yield shown
                if stops.reason is not None:
                    break
            else:
                for shown in stops.flush():
                    self._pieces.append(shown)
                    yield shown
        finally:
            pieces.close()  # ends the controller's generation (and its worker thread)
        if stops.reason is not None:
            c.stop_reason = stops.reason
        self.result = self._finish(time.perf_counter() - t0, counters0)

    def _guarded(self, pieces: Iterator[Piece], t0: float, counters0: tuple[EvalCounters, EvalCounters]
                 ) -> Iterator[Piece]:
        """Pass pieces through; when the generation fails part-way, attach what was written
        to the error (``GenerationError.partial``) and to ``self.result`` before raising."""
        try:
            yield from pieces
        except GenerationError as exc:
            c = self._controller
            c.stop_reason = "interrupted"
            self._pieces.extend(self._stops.flush())
            self.result = self._finish(time.perf_counter() - t0, counters0)
            exc.partial = self.result
            raise

    def _finish(self, seconds: float, counters0: tuple[EvalCounters, EvalCounters]) -> NudgeResult:
        c = self._controller
        now = c.model_counters()
        base_work, nudging_work = now[0].minus(counters0[0]), now[1].minus(counters0[1])
        if self._only == "nudging":
            base_work = EvalCounters()
        if self._only == "base":
            nudging_work = EvalCounters()
        spans = merge_spans(self._pieces)
        raw = "".join(s.text for s in spans)
        if self._only is None:
            # The reference's final clean-up: strip, then drop immediate repeats of 30+ chars.
            start = len(raw) - len(raw.lstrip())
            cleaned = strip_repeated_suffix(raw)
            spans = _slice_spans(spans, start, start + len(cleaned))
        text = "".join(s.text for s in spans)
        counters = c.counters
        output_tokens = counters.output_tokens
        if self._only == "nudging" or self._stops.reason is not None:
            output_tokens = c.count_base_tokens(text)
        stats = Stats(
            output_tokens=output_tokens,
            base_generated_tokens=counters.base_generated,
            base_discarded_tokens=counters.base_discarded,
            base_evaluated_tokens=base_work.evaluated_tokens,
            nudging_generated_tokens=counters.nudging_generated,
            nudging_evaluated_tokens=nudging_work.evaluated_tokens,
            rounds=counters.rounds,
            nudges=counters.nudges,
            seconds=seconds,
            prompt_seconds=c.prompt_seconds,
            wait_seconds=c.wait_seconds,
            base_work=base_work,
            nudging_work=nudging_work,
        )
        mode = "nudged" if self._only is None else self._only
        return NudgeResult(text=text, spans=spans, stop_reason=c.stop_reason or "eos", stats=stats, mode=mode)


def stop_strings(stop: list[str], new_turn: bool | None, chat: bool, only: Only | None,
                 fmt: PromptFormat) -> list[StopString]:
    """The caller's stop strings, plus the new-turn guard: text that starts the transcript's
    next question (a newline, then the question prefix) ends the answer - a base model
    continuing its transcript writes the next question itself, and a chat reply must not
    contain it (README). By default on for a conversation (``messages``: the reference never
    ran chats) and off for a single prompt (the paper's setting, the reference's answers)."""
    out = [StopString(s, "stop") for s in stop]
    if new_turn is None:
        new_turn = chat
    marker = fmt.question_prefix.rstrip()
    if new_turn and only != "nudging" and marker:
        out.append(StopString("\n" + marker, "new_turn"))
    return out


def _slice_spans(spans: list[Span], start: int, end: int) -> list[Span]:
    out, pos = [], 0
    for s in spans:
        a, b = max(start, pos), min(end, pos + len(s.text))
        if a < b:
            out.append(Span(s.text[a - pos : b - pos], s.source))
        pos += len(s.text)
    return out
