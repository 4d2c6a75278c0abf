"""The nudging rule over two text-completion models, in the authors' order of work.

This is the rule of the reference code (``completion_with_nudging`` and ``complete_with_base``
in the authors' ``utils.py``) for models that only complete text and report each generated
token's top-1 probability - a base model behind vLLM or llama-server, say::

    round:  the nudging model drafts 16 tokens of (its chat-templated prompt + answer);
            finished (EOS / end of turn) -> append the whole draft, stop
            split the draft into words on single spaces (leading spaces kept apart)
            for each next word: one base completion of (base prompt + answer + kept words);
              takeover if the word starts with its first token, or that token's top-1 >= gamma
            keep the words before the takeover (no takeover: all but the last; one word: it)
            the base continues: its first token, then 16-token chunks, each cut at its first
              token with top-1 < gamma; a chunk already in this turn (guard 1), or of more
              than 5 words already in the answer (guard 2), ends the turn unkept;
              a finished chunk ends the turn
    stops:  nudging finished, max tokens (base tokens, at round starts and between chunks),
            the same kept nudge 3 more rounds in a row, 150 rounds

Where this deliberately departs from the reference, the local engine's conventions win:

* a base end-of-sequence never takes over (the reference would index an empty token list);
* a word "starts with" the base's token only if that token has text;
* the gamma gate never cuts inside a character split across tokens (a token after one whose
  text is empty - see ``_local_text`` for that convention);
* lengths are in the base model's tokens, not GPT-3.5's.

And where it does less work for the same result: the base turn's first chunk, when the
takeover completion has finished, ends the turn without another call (the reference asks again
and gets an empty completion); and a word check asks for one token (``check_tokens=1``, the
default under greedy decoding) - only a takeover then asks, with the same prompt, for the whole
16-token completion the reference would have had, so the tokens are the same. Most checks
take over, so this costs calls, but a check that does not take over no longer generates 15
tokens for nothing (measured in docs/remote.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator

from ._backend import EvalCounters
from ._base_turn import Stop
from ._errors import ContextOverflowError
from ._generation import Counters
from ._rule import RunConfig
from ._session import ContextFull
from ._text import is_repetitive_chunk, kept_text, split_draft
from ._text_model import CallCounters, Completion, TextModel, TokenChoice
from ._types import Piece, Source, StopReason

#: Tokens a word check asks for (None: a whole chunk, as the reference does); see the module doc.
#: One token: on the demo pair (6 prompts, 64 tokens, llama-cpp-python's server) the base then
#: generated 666 tokens instead of 960 for the same answers, in 96 calls instead of 60 (most
#: checks take over, and a takeover then asks again for the whole chunk) - docs/remote.md.
DEFAULT_CHECK_TOKENS: int | None = 1
#: Tokens per call when one model runs alone (``only=``): pieces stream at this granularity.
SOLO_CHUNK_TOKENS = 64


class ReferenceRule:
    """One generation over two :class:`~nudge_local._text_model.TextModel` objects (the
    ``Generation`` protocol of ``_generation``). ``check_tokens``: tokens asked for per word
    check; ``None`` asks for a whole chunk, as the reference does (see the module doc)."""

    def __init__(self, base: TextModel, nudging: TextModel, base_prompt: str, nudging_prompt: str,
                 config: RunConfig, *, temperature: float, top_p: float, seed: int | None,
                 check_tokens: int | None = None):
        self.base = base
        self.nudging = nudging
        self.base_prompt = base_prompt
        self.nudging_prompt = nudging_prompt
        self.cfg = config
        self.check_tokens = check_tokens or DEFAULT_CHECK_TOKENS or config.rule.chunk_tokens
        greedy = temperature <= 0.0
        if not greedy:
            self.check_tokens = config.rule.chunk_tokens  # a second call could sample another token
        self._sampling = {"temperature": temperature, "top_p": top_p}
        self._seeds = (seed, None if seed is None else seed + 1)
        self.cancel = threading.Event()
        self.counters = Counters()
        self.stop_reason: StopReason | None = None
        self.prompt_seconds = 0.0
        self.answer = ""
        self._calls_made = 0
        self._length_cache: tuple[str, int] = ("", 0)

    # -- the Generation protocol --------------------------------------------------------------
    def run(self, only: Source | None = None) -> Generator[Piece, None, None]:
        try:
            if only is None:
                yield from self._nudged()
            elif only == "base":
                yield from self._solo(self.base, self.base_prompt, "base")
            else:
                yield from self._solo(self.nudging, self.nudging_prompt, "nudging")
            return
        except Stop as stop:
            self.stop_reason = stop.reason
        except ContextFull:
            if not self.answer:
                raise ContextOverflowError(
                    "The prompt does not fit in a model's context window; shorten it or give the "
                    "model a larger context.") from None
            self.stop_reason = "context"
        if only is None and self.stop_reason == "cancelled":
            self.counters.output_tokens = self._length()

    def count_base_tokens(self, text: str) -> int:
        return self.base.count_tokens(text)

    def model_counters(self) -> tuple[EvalCounters, EvalCounters]:
        return _as_eval(self.base.counters), _as_eval(self.nudging.counters)

    @property
    def wait_seconds(self) -> float:
        return 0.0  # one thread: the two models never wait for each other

    # -- the rule -----------------------------------------------------------------------------
    def _nudged(self) -> Iterator[Piece]:
        rule = self.cfg.rule
        last_kept, repeats = "", 0  # the reference starts from "", not from "no nudge yet"
        confidence: float | None = None
        while True:
            self._start_round()
            draft = self._complete(self.nudging, self.nudging_prompt + self.answer, rule.draft_tokens)
            self.counters.nudging_generated += len(draft.tokens)
            if draft.finished:
                yield from self._keep(draft.text, confidence)
                self.counters.output_tokens = self._length()
                raise Stop("nudging_eos")
            prefix, words = split_draft(draft.text)
            n_words, takeover = self._find_takeover(prefix, words)
            kept = kept_text(prefix, words, n_words)
            if kept == last_kept:
                repeats += 1
                if repeats >= rule.stuck_repeats:
                    raise Stop("stuck")
            else:
                last_kept, repeats = kept, 0
            yield from self._keep(kept, confidence)
            confidence = None
            if takeover is not None and takeover.text:
                confidence = yield from self._base_turn(takeover)

    def _start_round(self) -> None:
        if self.cancel.is_set():
            raise Stop("cancelled")
        self.counters.output_tokens = self._length()
        # The reference's order: the round limit is named before the length limit.
        if self.counters.rounds >= self.cfg.rule.max_rounds:
            raise Stop("rounds")
        if self.counters.output_tokens >= self.cfg.max_tokens:
            raise Stop("length")
        self.counters.rounds += 1

    def _keep(self, text: str, confidence: float | None) -> Iterator[Piece]:
        if text:
            self.answer += text
            self.counters.nudges += 1
            yield Piece(text, "nudging", confidence)

    def _find_takeover(self, prefix: str, words: list[str]) -> tuple[int, Completion | None]:
        """Step 2: (words kept, the base's completion where it takes over, or None)."""
        i = 0 if len(words) > 1 else 1  # a one-word draft is kept whole, unchecked
        while i < len(words) - 1:
            i += 1
            if self.cancel.is_set():
                raise Stop("cancelled")
            if not words[i]:
                continue  # a run of spaces: never a takeover point
            text = self.base_prompt + self.answer + kept_text(prefix, words, i)
            check = self._complete(self.base, text, self.check_tokens)
            if not check.tokens:
                continue  # the base would end here: an end-of-sequence never takes over
            first = check.tokens[0]
            if (first.text and (" " + words[i]).startswith(first.text)) or first.top1 >= self.cfg.gamma:
                return i, self._whole_chunk(text, check)
            self._discard(len(check.tokens))
        return (len(words) - 1 if len(words) > 1 else 1), None

    def _whole_chunk(self, text: str, check: Completion) -> Completion:
        """The takeover completion with a whole chunk (one more call when checks are short)."""
        if len(check.tokens) >= self.cfg.rule.chunk_tokens or check.finished:
            return check
        self._discard(len(check.tokens))  # its token comes again, first in the longer one
        return self._complete(self.base, text, self.cfg.rule.chunk_tokens)

    def _base_turn(self, start: Completion) -> Generator[Piece, None, float | None]:
        """Step 3 (``complete_with_base``): the takeover token, then judged chunks. Returns the
        base's top-1 probability where it became unsure (the next nudge's confidence)."""
        rule, gamma = self.cfg.rule, self.cfg.gamma
        budget = self.cfg.max_tokens - self._length()
        first = start.tokens[0]
        turn, turn_tokens = first.text, 1
        yield from self._emit([first])
        previous = first
        chunk: tuple[TokenChoice, ...] | None = start.tokens[1:]
        finished = start.finished
        while turn_tokens < budget:
            if self.cancel.is_set():
                raise Stop("cancelled")
            if chunk is None:
                more = self._complete(self.base, self.base_prompt + self.answer, rule.chunk_tokens)
                chunk, finished = more.tokens, more.finished
            cut = _first_unsure(chunk, previous, gamma)
            accepted = chunk[:cut]
            new = "".join(t.text for t in accepted)
            if "".join(t.text for t in chunk) in turn or is_repetitive_chunk(new, self.answer, rule.repeat_min_words):
                self.counters.base_discarded += len(accepted)
                self._discard(len(chunk))
                return None
            self._discard(len(chunk) - len(accepted))
            yield from self._emit(accepted)
            turn += new
            turn_tokens += len(accepted)
            if cut < len(chunk):
                return chunk[cut].top1
            if finished:
                return None
            if accepted:
                previous = accepted[-1]
            chunk = None
        return None

    def _emit(self, tokens: tuple[TokenChoice, ...] | list[TokenChoice]) -> Iterator[Piece]:
        for t in tokens:
            if t.text:
                self.answer += t.text
                yield Piece(t.text, "base", t.top1)

    # -- one model alone ----------------------------------------------------------------------
    def _solo(self, model: TextModel, prompt: str, source: Source) -> Iterator[Piece]:
        generated = 0
        while True:
            if self.cancel.is_set():
                raise Stop("cancelled")
            if generated >= self.cfg.max_tokens:
                raise Stop("length")
            want = min(SOLO_CHUNK_TOKENS, self.cfg.max_tokens - generated)
            c = self._complete(model, prompt + self.answer, want)
            generated += len(c.tokens)
            if source == "nudging":
                self.counters.nudging_generated += len(c.tokens)
            self.counters.output_tokens = generated
            for t in c.tokens:
                if t.text:
                    self.answer += t.text
                    yield Piece(t.text, source, t.top1 if source == "base" else None)
            if c.finished or not c.tokens:
                raise Stop("eos")

    # -- calls --------------------------------------------------------------------------------
    def _complete(self, model: TextModel, prompt: str, max_tokens: int) -> Completion:
        is_base = model is self.base
        seed = self._seeds[0] if is_base else self._seeds[1]
        t0 = time.perf_counter()
        completion = model.complete(prompt, max_tokens, seed=seed, **self._sampling)
        if self._calls_made == 0:
            self.prompt_seconds = time.perf_counter() - t0
        self._calls_made += 1
        if is_base:
            self.counters.base_generated += len(completion.tokens)
        return completion

    def _discard(self, n: int) -> None:
        """Base tokens generated and then not used (bench reports them)."""
        self.base.counters.discarded_tokens += n

    def _length(self) -> int:
        """The answer's length in base tokens (asked of the base model once per answer text)."""
        text, n = self._length_cache
        if text != self.answer:
            n = self.base.count_tokens(self.answer) if self.answer else 0
            self._length_cache = (self.answer, n)
        return n


def _first_unsure(chunk: tuple[TokenChoice, ...], previous: TokenChoice, gamma: float) -> int:
    """Index of the chunk's first token with top-1 < gamma that may start a cut (not inside a
    character: the token before it has text), else ``len(chunk)``."""
    before = previous
    for k, token in enumerate(chunk):
        if token.top1 < gamma and before.text:
            return k
        before = token
    return len(chunk)


def _as_eval(c: CallCounters) -> EvalCounters:
    """A text model's call counters in the units ``Stats`` reports for local models: prompt
    tokens processed as batched, generated tokens as single, calls as decode calls."""
    return EvalCounters(single_tokens=c.generated_tokens, batched_tokens=c.prompt_tokens,
                        decode_calls=c.calls, decode_seconds=c.seconds, unused_tokens=c.discarded_tokens)
