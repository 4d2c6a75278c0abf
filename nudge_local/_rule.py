"""The nudging rule, read top-down: nudge, keep words, let the base continue.

Follows ``shared/docs/nudging.md`` (the behaviour of the authors' ``completion_with_nudging``)::

    loop:
      1. NUDGE   the nudging model drafts up to 16 tokens; its EOS ends the answer
      2. KEEP    the draft's first word always; before each next word, the base takes over if
                 that word starts with the base's next token (agreement) or the base's top-1
                 probability is >= gamma (confidence); with no takeover, all words but the last
      3. BASE    the base writes from the takeover token while its top-1 probability >= gamma
                 (``_base_turn``), judged in 16-token chunks by the repetition guards
    stops: nudging EOS, max tokens, the same kept nudge 3 rounds in a row, 150 rounds, context

Deliberate differences from the reference, all also listed in the README:

* The base model decides token by token instead of decoding 16-token chunks and cutting them
  at the first uncertain token, so no base token is decoded and then thrown away. The
  repetition guards therefore judge the *accepted* tokens of each 16-token chunk.
* Default mode drafts lazily: the nudging model stops once the base has taken over. This is the
  reference's result except in one case: the reference appends a whole draft and ends the
  answer when the nudging model's EOS falls anywhere within its 16 tokens, even after a word
  where the base would have taken over; lazily, that EOS is never drafted and the base writes on.
* Default mode ends a base turn as soon as the chunk being written has copied more than 5 words
  verbatim from the answer (the reference waits for the chunk's 16th token, then drops it).
* ``exact=True`` gives the reference's answers: full drafts, whole-chunk guards (``_exact``).
* Lengths are counted in the base model's tokens (the reference counts GPT-3.5 tokens).
* A token limit or the gamma gate never cuts a UTF-8 character in half: a model keeps writing
  (at most 3 more tokens) until the character is complete.

*When* each model computes (a second thread for the nudging model) is ``_overlap``'s business;
nothing here depends on it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field

import numpy as np

from ._backend import EvalCounters
from ._base_turn import BaseTurn, Stop
from ._draft import CHAR_SLACK, Draft
from ._exact import DraftAhead, find_takeover_exact, settle, speculative_turn
from ._generation import Counters
from ._overlap import Schedule
from ._sampling import Sampler, top1
from ._session import ContextFull, Session
from ._text import Utf8Assembler, kept_text
from ._types import Piece, Source, StopReason

#: (words kept, the base's takeover token, its top-1 probability)
Takeover = tuple[int, int, float]
#: A condition on the draft's words so far.
WordTest = Callable[[list[str]], bool]


@dataclass(frozen=True)
class RuleConfig:
    """The rule's constants; the defaults are the paper's."""

    #: tokens in one nudge draft
    draft_tokens: int = 16
    #: tokens in one base chunk judged by the repetition guards
    chunk_tokens: int = 16
    max_rounds: int = 150
    #: the same kept nudge this many more rounds in a row ends the answer ("stuck")
    stuck_repeats: int = 3
    #: a base chunk of more than this many words already in the answer is dropped
    repeat_min_words: int = 5


@dataclass(frozen=True)
class RunConfig:
    """One generation's settings."""

    gamma: float = 0.4
    max_tokens: int = 256
    #: Reproduce the reference exactly (full drafts, whole-chunk guards); see the module doc.
    exact: bool = False
    #: Run the nudging model on a second thread while the base model works (``_overlap``).
    overlap: bool = False
    rule: RuleConfig = field(default_factory=RuleConfig)


class Controller:
    """Runs one generation. Iterate :meth:`run` for pieces; read :attr:`stop_reason` after."""

    def __init__(self, base: Session, nudging: Session | None, config: RunConfig,
                 base_sampler: Sampler, nudging_sampler: Sampler,
                 cancel: threading.Event | None = None):
        self.base = base
        self.nudging = nudging
        self.cfg = config
        self.base_sampler = base_sampler
        self.nudging_sampler = nudging_sampler
        self.cancel = cancel or threading.Event()
        self.counters = Counters()
        self.answer = ""
        self.stop_reason: StopReason | None = None
        self.prompt_seconds = 0.0
        self.schedule = Schedule(None, False)

    # -- public -------------------------------------------------------------------------------
    def run(self, only: Source | None = None) -> Generator[Piece, None, None]:
        self.schedule = Schedule(self.nudging, self.cfg.overlap and only is None)
        try:
            t0 = time.perf_counter()
            self.schedule.start(self.base if only in (None, "base") else None)
            self.prompt_seconds = time.perf_counter() - t0
            if only is None:
                yield from self._nudged()
            elif only == "base":
                yield from self._solo(self.base, "base")
            else:
                assert self.nudging is not None
                yield from self._solo(self.nudging, "nudging")
        except Stop as stop:
            self.stop_reason = stop.reason
        except ContextFull:
            self.stop_reason = "context"
        finally:
            self.schedule.close()

    def count_base_tokens(self, text: str) -> int:
        return self.base.count(text)

    def model_counters(self) -> tuple[EvalCounters, EvalCounters]:
        nudging = self.nudging.backend.counters.copy() if self.nudging is not None else EvalCounters()
        return self.base.backend.counters.copy(), nudging

    @property
    def wait_seconds(self) -> float:
        return self.schedule.wait_seconds

    def emit(self, piece: Piece) -> Iterator[Piece]:
        """Append a piece to the answer and hand it out (the nudging model may follow it)."""
        self.answer += piece.text
        yield piece
        self.schedule.follow(self.answer)

    # -- the nudging rule ---------------------------------------------------------------------
    def _nudged(self) -> Iterator[Piece]:
        last_kept = ""  # as the reference: a first empty nudge counts as a repeat
        repeats = 0
        confidence: float | None = None  # base top-1 probability where the next nudge starts
        while True:
            self._next_round()
            takeover, kept, pending = yield from self._draft_and_check()
            if kept == last_kept:
                repeats += 1
                if repeats >= self.cfg.rule.stuck_repeats:
                    if pending is not None:  # an EOS in the draft comes first
                        yield from settle(self, pending, "")
                    raise Stop("stuck")
            else:
                last_kept, repeats = kept, 0
            yield from self._keep(kept, confidence)
            confidence = None
            if takeover is not None:
                _, token, p = takeover
                turn = BaseTurn(self, token, p).run()
                if pending is None:
                    confidence = yield from turn
                else:  # exact mode, the draft still being written: the base starts meanwhile
                    confidence = yield from speculative_turn(self, turn, pending, kept)
                self.counters.output_tokens = self.base.count(self.answer)

    def _next_round(self) -> None:
        self.check_cancel()
        if self.counters.rounds >= self.cfg.rule.max_rounds:  # the reference's order
            raise Stop("rounds")
        if self.counters.output_tokens >= self.cfg.max_tokens:
            raise Stop("length")
        self.counters.rounds += 1

    def _draft_and_check(self) -> Generator[Piece, None, tuple[Takeover | None, str, DraftAhead | None]]:
        """Steps 1 and 2: draft, find where the base takes over; return it, the words kept and,
        in exact mode with overlap, the draft's rest still being written (see ``_exact``)."""
        assert self.nudging is not None
        self.schedule.catch_up()  # the nudging model has followed the answer in the background
        draft = Draft(self.nudging, self.nudging.sync(self.answer), self.nudging_sampler,
                      self.cfg.rule.draft_tokens)
        pending: DraftAhead | None = None
        if self.cfg.exact:
            takeover, pending = yield from find_takeover_exact(self, draft)
        else:
            takeover = yield from self._find_takeover(draft)
        prefix, words = draft.words()
        if takeover is not None:
            n_words = takeover[0]
        else:
            n_words = len(words) - 1 if len(words) > 1 else 1
        if pending is None:
            self.counters.nudging_generated += draft.tokens
        return takeover, kept_text(prefix, words, n_words), pending

    def _keep(self, kept: str, confidence: float | None) -> Iterator[Piece]:
        if kept:
            self.answer += kept
            self.counters.nudges += 1
            yield Piece(kept, "nudging", confidence)
        self.counters.output_tokens = self.base.count(self.answer)

    def _find_takeover(self, draft: Draft) -> Generator[Piece, None, Takeover | None]:
        """Walk the draft's word boundaries lazily, drafting only as far as needed."""
        i = 1
        while True:
            # Word i exists once a space follows word i-1; an empty word i is a run of
            # spaces only once something follows it too.
            yield from self.draft_while(draft, _word_missing(i))
            yield from self.draft_while(draft, _word_empty_so_far(i))
            prefix, words = draft.words()
            if len(words) <= i:
                return None
            if words[i]:
                candidate = self.base_candidate(self.base.sync(self.answer + kept_text(prefix, words, i)))
                if candidate is not None:
                    token, p, piece = candidate
                    if p >= self.cfg.gamma:
                        return (i, token, p)
                    # Agreement needs as much of word i as the base token is long.
                    yield from self.draft_while(draft, _word_shorter_than(i, len(piece)))
                    if piece and (" " + draft.words()[1][i]).startswith(piece):
                        return (i, token, p)
            i += 1

    def draft_while(self, draft: Draft, wanted: WordTest) -> Iterator[Piece]:
        """Draft while ``wanted(words)`` holds; end the answer if the draft hits EOS."""
        while not draft.finished and wanted(draft.words()[1]):
            draft.step()
            self.check_cancel()
        if draft.eos:
            yield from self.finish_with(draft)

    def base_candidate(self, logits: np.ndarray) -> tuple[int, float, str] | None:
        """The base model's next token at a boundary, its top-1 probability and its text;
        None for an end-of-generation token (which never takes over)."""
        best, p = top1(logits)
        token = self.base_sampler.pick(logits, best)
        if self.base.backend.is_eog(token):
            return None
        return token, p, self.base.backend.token_bytes(token).decode("utf-8", "ignore")

    def finish_with(self, draft: Draft, shown: str = "") -> Iterator[Piece]:
        """The nudging model ended its turn within the draft: append it all (but ``shown``, its
        beginning, already appended this round) and stop."""
        self.counters.nudging_generated += draft.tokens
        rest = draft.text[len(shown):]
        if rest:
            self.answer += rest
            self.counters.nudges += not shown
            yield Piece(rest, "nudging", None)
        self.counters.output_tokens = self.base.count(self.answer)
        raise Stop("nudging_eos")

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise Stop("cancelled")

    # -- one model alone ----------------------------------------------------------------------
    def _solo(self, session: Session, source: Source) -> Iterator[Piece]:
        utf8 = Utf8Assembler()
        sampler = self.base_sampler if source == "base" else self.nudging_sampler
        logits = session.sync("")
        generated = 0
        while True:
            self.check_cancel()
            best, p = top1(logits)
            token = sampler.pick(logits, best)
            if session.backend.is_eog(token):
                raise Stop("eos")
            text = utf8.feed(session.backend.token_bytes(token))
            generated += 1
            if source == "base":
                self.counters.base_generated += 1
            else:
                self.counters.nudging_generated += 1
            self.counters.output_tokens = generated
            if text:
                self.answer += text
                yield Piece(text, source, p if source == "base" else None)
            if generated >= self.cfg.max_tokens and (
                not utf8.pending or generated >= self.cfg.max_tokens + CHAR_SLACK
            ):
                raise Stop("length")
            logits = session.push(token)


# Conditions on the draft's words while the rule waits for word i (see _find_takeover).
def _word_missing(i: int) -> WordTest:
    return lambda words: len(words) <= i


def _word_empty_so_far(i: int) -> WordTest:
    return lambda words: len(words) == i + 1 and not words[i]


def _word_shorter_than(i: int, n: int) -> WordTest:
    """Word i is still being written and, with its space, shorter than ``n`` characters."""
    return lambda words: len(words) <= i + 1 and len(words[i]) + 1 < n
