"""Exact mode's step 2: the reference's answers, with less work than the reference does.

The reference drafts all 16 tokens, ends the answer if the nudging model's EOS is anywhere in
them, and otherwise checks the word boundaries one by one until the base takes over. Only the
result has to match, not the order of work:

* boundaries are checked lazily, in order, and checking stops at the first takeover - usually
  the first boundary - so the base evaluates the draft's first word or two and reads one logits
  row, not all 16 tokens with a row per word (a row of Gemma's 262k vocabulary costs about as
  much as the rest of a small model's forward pass on a CPU);
* with overlap, the nudging model drafts the rest of its 16 tokens on the other core while the
  base checks boundaries as soon as their words are complete, and while the base then writes
  its turn: an EOS anywhere in the draft still decides the answer, so the base's pieces are
  held back until the draft is complete, and thrown away if it ended in EOS (the reference
  then appends the whole draft and stops).

The evaluations made, and so every logit the answer depends on, are the same with and without
overlap: boundaries in order, each on the same text, up to the same takeover, then the same
base turn; only work whose result is thrown away differs.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from ._base_turn import Stop
from ._draft import CHAR_SLACK, Draft
from ._text import kept_text
from ._types import Piece

if TYPE_CHECKING:
    from ._rule import Controller, Takeover


class DraftAhead:
    """The draft's remaining tokens, written in the background (with overlap) or at once."""

    def __init__(self, rule: Controller, draft: Draft):
        self.draft = draft
        self._jobs: list[Future[Any]] = []
        def step() -> None:
            if not rule.cancel.is_set():  # a cancelled answer stops within a token
                draft.step()

        if rule.schedule.overlapping:
            for _ in range(draft.limit + CHAR_SLACK - draft.tokens + 1):
                job = rule.schedule.in_background(step)
                if job is not None:
                    self._jobs.append(job)
        else:
            while not draft.finished and not rule.cancel.is_set():
                draft.step()
        self._rule = rule

    def until(self, ready: Callable[[], bool]) -> None:
        """Wait until ``ready()`` holds or the draft is complete (only the worker writes the
        draft; it is read here only after the steps waited for have finished)."""
        while self._jobs and not ready():
            self._rule.schedule.wait_for(self._jobs.pop(0))

    def done(self) -> bool:
        """Complete already (no waiting)."""
        return not self._jobs or self._jobs[-1].done()

    def finish(self) -> None:
        self.until(lambda: False)


def find_takeover_exact(rule: Controller, draft: Draft
                        ) -> Generator[Piece, None, tuple[Takeover | None, DraftAhead | None]]:
    """The first takeover, and - when found while the draft is still being written - the
    draft's rest (the caller settles it: :func:`settle`, :func:`speculative_turn`)."""
    ahead = DraftAhead(rule, draft)
    rule.check_cancel()
    if draft.finished and draft.eos:  # known before any check (no overlap): none needed
        yield from rule.finish_with(draft)
    i = 1
    while True:
        # Word i is final once a space follows it (or the draft is complete).
        ahead.until(_word_final(draft, i))
        prefix, words = draft.words()
        if i >= len(words):
            break
        if words[i]:  # empty words come from runs of spaces and are never takeover points
            candidate = rule.base_candidate(rule.base.sync(rule.answer + kept_text(prefix, words, i)))
            if candidate is not None:
                token, p, piece = candidate
                if p >= rule.cfg.gamma or (piece and (" " + words[i]).startswith(piece)):
                    if ahead.done():
                        ahead.finish()
                        if draft.eos:
                            yield from rule.finish_with(draft)
                        return (i, token, p), None
                    return (i, token, p), ahead
        i += 1
    ahead.finish()
    rule.check_cancel()
    if draft.eos:
        yield from rule.finish_with(draft)
    return None, None


def settle(rule: Controller, pending: DraftAhead, shown: str) -> Generator[Piece, None, None]:
    """Wait for the draft's rest; an EOS in it ends the answer with the whole draft."""
    pending.finish()
    rule.check_cancel()
    if pending.draft.eos:
        yield from rule.finish_with(pending.draft, shown)
    rule.counters.nudging_generated += pending.draft.tokens


def speculative_turn(rule: Controller, turn: Generator[Piece, None, float | None], pending: DraftAhead,
                     kept: str) -> Generator[Piece, None, float | None]:
    """Run the base's turn while the draft is completed; hold its pieces back until then."""
    answer, counters = rule.answer, rule.counters
    before = (counters.output_tokens, counters.base_generated)
    held: list[Piece] = []
    stopped: Stop | None = None
    result: float | None = None
    ended = False
    try:
        while not pending.done():
            try:
                held.append(next(turn))
            except StopIteration as end:
                result, ended = end.value, True
                break
    except Stop as stop:
        stopped, ended = stop, True
    pending.finish()
    if pending.draft.eos:  # the reference never let the base write this turn
        turn.close()
        counters.base_discarded += counters.base_generated - before[1]
        rule.answer = answer
        counters.output_tokens = before[0]
        yield from rule.finish_with(pending.draft, kept)
    counters.nudging_generated += pending.draft.tokens
    yield from held
    if stopped is not None:
        raise stopped
    if ended:
        return result
    return (yield from turn)


def _word_final(draft: Draft, i: int) -> Callable[[], bool]:
    return lambda: draft.finished or len(draft.words()[1]) > i + 1
