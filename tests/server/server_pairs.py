"""A scripted pair for the server tests: asked "3 1 4?", both models spell the digits,
" three one four.", one word per token, and the answer ends with the nudging model's EOS.

Each answer is determined by its question, so answers of concurrent requests can be told
apart (interleaving shows), and everything about the run can be scripted: the base model's
confidence (how the γ gate behaves), a delay per model call (a slow engine), a gate that holds
every call until released (a generation that waits), a failure after some words (an engine
error), and a log of what each call saw (which generation ran, and how far it got).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fakes import SPECIALS, TEMPLATE

from nudge_local import Nudger
from nudge_local.testing import FakeBackend

NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
VOCAB = [*(" " + n for n in NAMES), ".", "?", " ", "\n", "Question", ":", *"0123456789"]
EOS = "<eos>"


def spelled(question: str, ending: str = ".") -> str:
    """The answer both models write to ``question`` (digits separated by spaces)."""
    return "".join(" " + NAMES[int(d)] for d in question.split()) + ending


def answer_text(question: str, ending: str = ".") -> str:
    return spelled(question, ending).strip()


@dataclass
class Script:
    """How the pair behaves; tests change it between requests."""

    base_confidence: float = 1.0
    #: the token the base proposes instead of the answer's next word (it then never agrees)
    base_says: str | None = None
    ending: str = "."
    delay: float = 0.0
    gate: threading.Event | None = None
    fail_after_words: int | None = None
    calls: list[tuple[float, str, str, str]] = field(default_factory=list)  # (time, model, question, answer)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def furthest(self, question: str) -> int:
        """How many words of the answer to ``question`` any model call had seen."""
        with self.lock:
            return max((len(a.split()) for _, _, q, a in self.calls if q == question), default=0)

    def last_call_time(self, question: str) -> float | None:
        with self.lock:
            return max((t for t, _, q, _ in self.calls if q == question), default=None)


def _model_script(script: Script, role: str):
    def next_token(text: str):
        if script.gate is not None:
            script.gate.wait(timeout=20)
        if script.delay:
            time.sleep(script.delay)
        if "Question: " not in text:
            return EOS
        question, _, answer = text.rsplit("Question: ", 1)[1].partition("?")
        if role == "base":
            answer = answer.removeprefix("\n")
        with script.lock:
            script.calls.append((time.monotonic(), role, question, answer))
        if script.fail_after_words is not None and len(answer.split()) >= script.fail_after_words:
            raise RuntimeError("scripted engine failure")
        target = spelled(question, script.ending)
        if answer == target or not target.startswith(answer):
            return EOS
        rest = target[len(answer):]
        token = "." if rest.startswith(".") else " " + rest[1:].replace(".", " ").split(" ")[0]
        if role == "base" and script.base_says is not None:
            return {script.base_says: script.base_confidence}
        if role == "base" and script.base_confidence < 1.0:
            return {token: script.base_confidence}
        return token

    return next_token


@dataclass
class ScriptedPair:
    nudger: Nudger
    base: FakeBackend
    nudging: FakeBackend
    script: Script

    def work(self) -> int:
        """Everything both models have computed so far (their counters)."""
        return (self.base.counters.evaluated_tokens + self.nudging.counters.evaluated_tokens
                + self.base.push_calls + self.nudging.push_calls)


class _LazyByDefault(Nudger):
    """The scripted answers end within one 16-token draft, which exact mode (the engine's
    default) keeps whole as the nudging model's; these pairs default to the lazy mode so that
    both models write. A request's ``exact`` (extra_body) still wins."""

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("exact", False)
        return super().stream(*args, **kwargs)


def scripted_pair(*, name: str | None = "fake", n_ctx: int = 4096, **script_settings) -> ScriptedPair:
    script = Script(**script_settings)
    base = FakeBackend(VOCAB, _model_script(script, "base"), specials=SPECIALS, n_ctx=n_ctx)
    nudging = FakeBackend(VOCAB, _model_script(script, "nudging"), specials=SPECIALS, n_ctx=n_ctx,
                          chat_template=TEMPLATE)
    nudger = _LazyByDefault(base, nudging)
    if name is not None:
        nudger.pair_name = name
    return ScriptedPair(nudger, base, nudging, script)


def varied_digits(n: int, seed: int = 7) -> str:
    """``n`` digits with no 6-word run repeated: a long answer the repetition guards leave alone."""
    import random

    rng = random.Random(seed)
    digits: list[str] = []
    seen: set[tuple[str, ...]] = set()
    while len(digits) < n:
        d = rng.choice("0123456789")
        run = tuple(digits[-5:] + [d])
        if len(run) == 6 and run in seen:
            continue
        seen.add(run)
        digits.append(d)
    return " ".join(digits)
