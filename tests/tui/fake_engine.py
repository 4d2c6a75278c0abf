"""A stand-in for ``nudge_local.Nudger`` with the same contract as far as the UI uses it, for
UI tests.

It yields real ``nudge_local.Piece`` objects with a small delay, honours ``cancel()`` from
another thread, sets ``.result`` to a real ``NudgeResult`` when iteration ends, and records
every call's arguments so tests can assert what the UI asked for. Like the real engine, it
counts prompt tokens (here: words) and refuses a prompt longer than its context (``n_ctx``)
with ``ContextOverflowError``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from nudge_local import ContextOverflowError, ModelInfo, NudgeResult, PairInfo, Piece, Span, Stats


def merge_spans(pieces: list[Piece]) -> list[Span]:
    spans: list[Span] = []
    for p in pieces:
        if spans and spans[-1].source == p.source:
            spans[-1] = Span(spans[-1].text + p.text, p.source)
        elif p.text:
            spans.append(Span(p.text, p.source))
    return spans


def count_words(messages, system) -> int:
    """The fake's token count of a prompt: its words, plus one per message (role markers)."""
    text = " ".join(m["content"] for m in messages) + " " + (system or "You are a helpful assistant.")
    return len(text.split()) + len(messages)


def reply_pieces(question: str, only: str | None, filler: int = 0) -> list[Piece]:
    if only == "base":
        words = f"Base model says: {question} is a question".split(" ")
        return [Piece((" " if i else "") + w, "base", 0.9) for i, w in enumerate(words)]
    if only == "nudging":
        words = f"Nudging model says: happy to help with {question}".split(" ")
        return [Piece((" " if i else "") + w, "nudging", None) for i, w in enumerate(words)]
    pieces = [
        Piece("Sure", "nudging", 0.1),
        Piece("!", "nudging", 0.2),
        Piece(" The answer to", "base", 0.8),
        Piece(f" {question}", "base", 0.9),
        Piece(" is", "base", 0.7),
        Piece(" *forty-two*", "nudging", 0.3),
    ]
    pieces += [Piece(f" filler{i}", "base", 0.9) for i in range(filler)]
    pieces.append(Piece(".", "base", 0.95))
    return pieces


class FakeStream:
    def __init__(self, nudger: FakeNudger, pieces: list[Piece], mode: str, max_tokens: int) -> None:
        self._nudger = nudger
        self._pieces = pieces[:max_tokens]
        self._hit_limit = len(pieces) > max_tokens
        self._mode = mode
        self._cancelled = threading.Event()
        self.result: NudgeResult | None = None

    def cancel(self) -> None:
        self._cancelled.set()

    def __iter__(self):
        start = time.monotonic()
        emitted: list[Piece] = []
        stop = "nudging_eos" if self._mode == "nudged" else "eos"
        for i, piece in enumerate(self._pieces):
            if i == self._nudger.hold_after:
                self._nudger.holding.set()
                # Wait, like a slow model, until released or cancelled.
                while not (self._nudger.release.is_set() or self._cancelled.is_set()):
                    time.sleep(0.005)
            if self._cancelled.is_set():
                stop = "cancelled"
                break
            time.sleep(self._nudger.delay)
            emitted.append(piece)
            yield piece
        else:
            if self._hit_limit:
                stop = "length"
        spans = merge_spans(emitted)
        stats = Stats(
            output_tokens=len(emitted),
            nudges=sum(1 for s in spans if s.source == "nudging"),
            rounds=len(spans),
            seconds=self._nudger.seconds or max(time.monotonic() - start, 1e-6),
        )
        self.result = NudgeResult(
            text="".join(p.text for p in emitted), spans=spans, stop_reason=stop, stats=stats, mode=self._mode
        )


class FakeNudger:
    def __init__(self, delay: float = 0.002, filler: int = 0, hold_after: int | None = None,
                 seconds: float | None = None, n_ctx: int = 4096, names: tuple[str, str] = ("fake-base", "fake-chat"),
                 ) -> None:
        self.n_ctx = n_ctx
        self.names = names
        self.delay = delay
        self.seconds = seconds  # report this duration (deterministic tok/s for snapshots)
        self.filler = filler
        self.hold_after = hold_after  # pause before this piece until release/cancel
        self.holding = threading.Event()
        self.release = threading.Event()
        self.calls: list[dict[str, Any]] = []
        self.closed = False

    @property
    def info(self) -> PairInfo:
        def model(name: str, role: str) -> ModelInfo:
            return ModelInfo(name, role, "fake", None, 1000, self.n_ctx, 100, quantization="Q4_K_M")

        return PairInfo("fake", model(self.names[0], "base"), model(self.names[1], "nudging"), 0.4)

    def count_tokens(self, prompt=None, *, messages=None, system=None) -> dict[str, int]:
        n = count_words(messages, system)
        return {"base": n, "nudging": n, "base_n_ctx": self.n_ctx, "nudging_n_ctx": self.n_ctx}

    def stream(self, prompt=None, messages=None, gamma=0.4, max_tokens=256, system=None,
               temperature=0.0, top_p=1.0, seed=None, only=None) -> FakeStream:
        self.calls.append(dict(messages=messages, gamma=gamma, max_tokens=max_tokens, system=system,
                               temperature=temperature, only=only))
        size = count_words(messages, system)
        if size >= self.n_ctx:  # as llama.cpp would: the prompt does not fit
            raise ContextOverflowError(f"The prompt is {size} tokens; the context holds {self.n_ctx}.")
        question = messages[-1]["content"] if messages else prompt
        mode = "nudged" if only is None else only
        return FakeStream(self, reply_pieces(question, only, self.filler), mode, max_tokens)

    def close(self) -> None:
        self.closed = True
