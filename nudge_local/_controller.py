"""The nudging rule as a state machine over two :class:`Session` objects.

Follows ``shared/docs/nudging.md`` (the behaviour of the authors' ``completion_with_nudging``).
Deliberate differences, all also listed in the README:

* The base model decides token by token instead of decoding 16-token chunks and cutting them
  at the first uncertain token, so no base token is decoded and then thrown away. The
  repetition guards therefore judge the *accepted* tokens of each 16-token chunk (the
  reference judges all 16, including those after the uncertain one).
* Nudge drafts are drawn lazily: the nudging model stops drafting once the base has taken
  over. This is the reference's result except in one case: the reference appends a whole
  draft and ends the answer when the nudging model's EOS falls anywhere within its 16 tokens,
  even after a word where the base would have taken over; lazily, that EOS is never drafted
  and the base writes on.
* A base turn ends as soon as the chunk being written has copied more than 5 words verbatim
  from the answer (the reference waits for the chunk's 16th token, then drops the chunk the
  same way). A base model stuck in a loop otherwise spends 16 tokens a round on text that is
  thrown away.
* ``exact=True`` turns both off: all 16 tokens drafted, every word boundary checked in one
  batched base evaluation, guards judged on whole chunks - the reference's behaviour.
* Lengths are counted in the base model's tokens (the reference counts GPT-3.5 tokens).
* A token limit or the gamma gate never cuts a UTF-8 character in half: a model keeps writing
  (at most 3 more tokens) until the character is complete.
* A base EOS never takes over from a nudge and ends a base turn (the nudging model then decides
  how the answer ends).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from ._sampling import Sampler, top1
from ._session import Session, _ContextFull
from ._text import Utf8Assembler, is_repetitive_chunk, kept_text, split_draft
from ._types import Piece, Source, StopReason

# A model may write this many tokens past a limit to finish a character split across tokens.
_CHAR_SLACK = 3


@dataclass(frozen=True)
class RuleConfig:
    gamma: float = 0.4
    max_tokens: int = 256
    draft_tokens: int = 16
    chunk_tokens: int = 16
    max_rounds: int = 150
    stuck_repeats: int = 3
    repeat_min_words: int = 5
    #: Reproduce the reference exactly (full drafts, whole-chunk guards); see the module doc.
    exact: bool = False
    #: Run the nudging model on a second thread while the base model works: it follows the
    #: base's text as it is written and drafts while the base checks a word boundary. Only
    #: worth it when both models' threads fit on the machine's cores at once.
    overlap: bool = False


@dataclass
class Counters:
    output_tokens: int = 0
    base_generated: int = 0
    base_discarded: int = 0  # generated, then dropped by a repetition guard
    nudging_generated: int = 0
    rounds: int = 0
    nudges: int = 0


class _Worker:
    """One background thread running jobs in submission order (llama.cpp releases the GIL
    while it computes, so the two models really run side by side)."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nudging-model")
        self._jobs: list[Future] = []

    def submit(self, fn, *args) -> Future:
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


class _Stop(Exception):
    def __init__(self, reason: StopReason):
        self.reason = reason


@dataclass
class _Draft:
    """A nudge draft the nudging model writes on demand (``step``) up to its token limit."""

    session: Session
    logits: np.ndarray
    sampler: Sampler
    limit: int
    text: str = ""
    tokens: int = 0
    finished: bool = False
    eos: bool = False
    _pending: int | None = None
    _utf8: Utf8Assembler = field(default_factory=Utf8Assembler)

    def step(self) -> None:
        if self.finished:
            return
        if self._pending is not None:
            # Evaluate the previous token only now that the next one is wanted: the last
            # token of a draft is never evaluated for nothing.
            self.logits = self.session.push(self._pending)
            self._pending = None
        token = self.sampler.pick(self.logits, int(np.argmax(self.logits)))
        if self.session.backend.is_eog(token):
            self.finished = self.eos = True
            return
        self.text += self._utf8.feed(self.session.backend.token_bytes(token))
        self.tokens += 1
        self._pending = token
        over = self.tokens >= self.limit
        if (over and not self._utf8.pending) or self.tokens >= self.limit + _CHAR_SLACK:
            self.finished = True
        elif not self.session.room(2):
            self.finished = True

    def fill(self) -> None:
        while not self.finished:
            self.step()

    def words(self) -> tuple[str, list[str]]:
        return split_draft(self.text)


class Controller:
    """Runs one generation. Iterate :meth:`run` for pieces; read :attr:`stop_reason` after."""

    def __init__(
        self,
        base: Session | None,
        nudging: Session | None,
        config: RuleConfig,
        base_sampler: Sampler,
        nudging_sampler: Sampler,
        cancel: threading.Event | None = None,
    ):
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
        self._worker: _Worker | None = None

    # -- public -------------------------------------------------------------------------------
    def run(self, only: Source | None = None) -> Iterator[Piece]:
        self._worker = _Worker() if self.cfg.overlap and only is None else None
        try:
            t0 = time.perf_counter()
            if self._worker is not None:  # both prompts at once
                job = self._worker.submit(self.nudging.start)
                try:
                    self.base.start()
                finally:
                    job.result()
            else:
                if only in (None, "base"):
                    self.base.start()
                if only in (None, "nudging"):
                    self.nudging.start()
            self.prompt_seconds = time.perf_counter() - t0
            if only is None:
                yield from self._nudged()
            else:
                yield from self._solo(self.base if only == "base" else self.nudging, only)
        except _Stop as stop:
            self.stop_reason = stop.reason
        except _ContextFull:
            self.stop_reason = "context"
        finally:
            if self._worker is not None:
                self._worker.close()
                self._worker = None

    # -- one model alone ----------------------------------------------------------------------
    def _solo(self, session: Session, source: Source) -> Iterator[Piece]:
        utf8 = Utf8Assembler()
        sampler = self.base_sampler if source == "base" else self.nudging_sampler
        logits = session.sync("")
        generated = 0
        while True:
            self._check_cancel()
            best, p = top1(logits)
            token = sampler.pick(logits, best)
            if session.backend.is_eog(token):
                raise _Stop("eos")
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
                not utf8.pending or generated >= self.cfg.max_tokens + _CHAR_SLACK
            ):
                raise _Stop("length")
            logits = session.push(token)

    # -- the nudging rule ---------------------------------------------------------------------
    def _nudged(self) -> Iterator[Piece]:
        cfg = self.cfg
        last_kept: str | None = None
        repeats = 0
        confidence: float | None = None  # base top-1 probability where the next nudge starts
        while True:
            self._check_cancel()
            if self.counters.output_tokens >= cfg.max_tokens:
                raise _Stop("length")
            if self.counters.rounds >= cfg.max_rounds:
                raise _Stop("rounds")
            self.counters.rounds += 1

            # 1. NUDGE: the nudging model catches up with the answer in one batched eval.
            self._catch_up_done()
            draft = _Draft(self.nudging, self.nudging.sync(self.answer), self.nudging_sampler,
                           cfg.draft_tokens)
            takeover = yield from self._find_takeover(draft)

            # 2. KEEP: the words before the takeover, or all but the (maybe cut) last word.
            prefix, words = draft.words()
            if takeover is not None:
                n_words = takeover[0]
            else:
                n_words = len(words) - 1 if len(words) > 1 else 1
            self.counters.nudging_generated += draft.tokens
            kept = kept_text(prefix, words, n_words)
            if kept == last_kept:
                repeats += 1
                if repeats >= cfg.stuck_repeats:
                    raise _Stop("stuck")
            else:
                last_kept, repeats = kept, 0
            if kept:
                self.answer += kept
                self.counters.nudges += 1
                yield Piece(kept, "nudging", confidence)
            self.counters.output_tokens = self.base.count(self.answer)
            confidence = None
            if takeover is None:
                continue

            # 3. BASE CONTINUES from the takeover token until it is unsure.
            confidence = yield from self._base_turn(takeover[1], takeover[2])
            self.counters.output_tokens = self.base.count(self.answer)

    def _find_takeover(self, draft: _Draft):
        """Walk the draft's word boundaries; return (words kept, base token, its top-1
        probability) at the first takeover, or None. Ends the answer when the draft ends on
        the nudging model's EOS (its normal end of an answer). A generator only so that it
        can ``yield`` the final nudge piece before stopping."""
        if self.cfg.exact:
            return (yield from self._find_takeover_full(draft))
        i = 1
        while True:
            # Word i exists once a space follows word i-1; an empty word i is a run of
            # spaces only once something follows it too.
            yield from self._draft_while(draft, lambda w: len(w) <= i, speculate=i)
            yield from self._draft_while(draft, lambda w: len(w) == i + 1 and not w[i])
            prefix, words = draft.words()
            if len(words) <= i:
                return None
            if words[i]:
                candidate = self._base_candidate(self.base.sync(self.answer + kept_text(prefix, words, i)))
                if candidate is not None:
                    token, p, piece = candidate
                    if p >= self.cfg.gamma:
                        return (i, token, p)
                    # Agreement needs as much of word i as the base token is long.
                    yield from self._draft_while(
                        draft, lambda w: len(w) <= i + 1 and len(w[i]) + 1 < len(piece))
                    if piece and (" " + draft.words()[1][i]).startswith(piece):
                        return (i, token, p)
            i += 1

    def _find_takeover_full(self, draft: _Draft):
        """The reference's way: all 16 tokens drafted, every boundary checked in one batch."""
        draft.fill()
        if draft.eos:
            yield from self._finish_with(draft)
        prefix, words = draft.words()
        checks = [i for i in range(1, len(words)) if words[i]]
        texts = [self.answer + kept_text(prefix, words, i) for i in checks]
        rows = self.base.sync_prefixes(texts) if texts else []
        for k, (i, logits) in enumerate(zip(checks, rows)):
            candidate = self._base_candidate(logits)
            if candidate is None:
                continue
            token, p, piece = candidate
            if p >= self.cfg.gamma or (piece and (" " + words[i]).startswith(piece)):
                self.base.rewind_to_prefix(k, texts[k])
                return (i, token, p)
        return None

    def _draft_while(self, draft: _Draft, wanted, speculate: int | None = None):
        """Draft while ``wanted(words)`` holds; end the answer if the draft hits EOS."""
        while not draft.finished and wanted(draft.words()[1]):
            if speculate is None:
                draft.step()
            else:
                self._step_and_speculate(draft, speculate)
            self._check_cancel()
        if draft.eos:
            yield from self._finish_with(draft)

    def _base_candidate(self, logits: np.ndarray):
        """The base model's next token at a boundary, its top-1 probability and its text;
        None for an end-of-generation token (which never takes over)."""
        best, p = top1(logits)
        token = self.base_sampler.pick(logits, best)
        if self.base.backend.is_eog(token):
            return None
        return token, p, self.base.backend.token_bytes(token).decode("utf-8", "ignore")

    def _finish_with(self, draft: _Draft):
        self.counters.nudging_generated += draft.tokens
        if draft.text:
            self.answer += draft.text
            self.counters.nudges += 1
            yield Piece(draft.text, "nudging", None)
        self.counters.output_tokens = self.base.count(self.answer)
        raise _Stop("nudging_eos")

    def _base_turn(self, token: int, p: float):
        """Accept ``token`` and keep decoding while the base is confident. Judges the turn in
        16-token chunks for the repetition guards, holding a chunk's pieces back only while its
        text so far already occurs in the answer (the only case where a guard can fire).
        Returns the base's top-1 probability where it stopped, when known."""
        cfg = self.cfg
        utf8 = Utf8Assembler()
        # Committed text of this turn; self.answer always ends with it (held pieces are added
        # to both only when released).
        turn = ""
        chunk_text, chunk_n, held, committed = "", 0, [], True
        first = True
        stop: StopReason | None = None
        confidence: float | None = None
        while True:
            # accept `token`
            text = utf8.feed(self.base.backend.token_bytes(token))
            self.counters.base_generated += 1
            self.counters.output_tokens += 1
            piece = Piece(text, "base", p)
            if first:
                first = False
                turn += text
                self.answer += text
                if text:
                    yield piece
                    self._follow()
                chunk_text, chunk_n, held, committed = "", 0, [], False
            else:
                chunk_text += text
                chunk_n += 1
                if committed:
                    turn += text
                    self.answer += text
                    if text:
                        yield piece
                        self._follow()
                else:
                    held.append(piece)
                    if chunk_text and chunk_text not in self.answer:
                        committed = True
                        yield from self._release(held)
                        turn += chunk_text
                        held = []
                    elif not cfg.exact and is_repetitive_chunk(chunk_text, self.answer,
                                                               cfg.repeat_min_words):
                        break  # already copying: the chunk would be dropped at its end
                    else:
                        # The nudging model follows held text too (a held chunk is usually
                        # kept), but not the token that dooms it: the next round would wait.
                        self._follow(chunk_text)
                if chunk_n >= cfg.chunk_tokens:
                    if not committed and not self._chunk_ok(chunk_text, turn):
                        break  # repetition: end the turn without the chunk
                    if not committed:
                        yield from self._release(held)
                        turn += chunk_text
                    chunk_text, chunk_n, held, committed = "", 0, [], False

            over = self.counters.output_tokens - cfg.max_tokens
            if over >= 0 and (not utf8.pending or over >= _CHAR_SLACK):
                stop = "length"
            if self.cancel.is_set():
                stop = "cancelled"
            if stop is not None:
                break
            logits = self.base.push(token)
            best, p = top1(logits)
            token = self.base_sampler.pick(logits, best)
            if self.base.backend.is_eog(token):
                confidence = p
                break
            if p < cfg.gamma and not utf8.pending:
                confidence = p
                break
        if chunk_n and not committed:
            if self._chunk_ok(chunk_text, turn):
                yield from self._release(held)
                turn += chunk_text
            else:
                self.counters.base_discarded += chunk_n
        if stop is not None:
            raise _Stop(stop)
        return confidence

    def _release(self, held: list[Piece]) -> Iterator[Piece]:
        for piece in held:
            self.answer += piece.text
            if piece.text:
                yield piece
        self._follow()

    # -- overlap (a second thread for the nudging model) --------------------------------------
    def _follow(self, held: str = "") -> None:
        """Let the nudging model evaluate the answer so far (plus text ``held`` back) in the
        background. Every call queues one job and the worker runs them in order, so how the
        text is split into evaluations - and so every logit - is the same whatever the timing."""
        if self._worker is not None:
            self._worker.submit(self.nudging.sync, self.answer + held)

    def _catch_up_done(self) -> None:
        if self._worker is not None:
            self._worker.drain()

    def _step_and_speculate(self, draft: _Draft, i: int) -> None:
        """Draft one more token. With overlap, the base meanwhile evaluates the draft so far:
        if the new token starts word ``i``, that is exactly the text the base must be checked
        on next, and its logits are then ready (the later sync finds them cached)."""
        prefix, words = draft.words()
        if self._worker is None or not draft.text or len(words) != i or not words[-1]:
            draft.step()
            return
        job = self._worker.submit(draft.step)
        try:
            self.base.sync(self.answer + draft.text)
        finally:
            job.result()

    def _chunk_ok(self, chunk: str, turn: str) -> bool:
        """The guards on a held chunk: not already in this base turn, and not more than
        ``repeat_min_words`` words already in the answer (held text is not in it yet)."""
        if chunk in turn:
            return False
        return not is_repetitive_chunk(chunk, self.answer, self.cfg.repeat_min_words)

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise _Stop("cancelled")
