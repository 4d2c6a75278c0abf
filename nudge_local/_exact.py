"""Exact mode's step 2: the reference's answers, with less work than the reference does.

The reference drafts all 16 tokens, ends the answer if the nudging model's EOS is anywhere in
them, and otherwise checks the word boundaries one by one until the base takes over. Only the
result has to match, not the order of work:

* boundaries are checked lazily, in order, and checking stops at the first takeover - usually
  the first boundary - so the base evaluates the draft's first word or two and reads one logits
  row, not all 16 tokens with a row per word (a row of Gemma's 262k vocabulary costs about as
  much as the rest of a small model's forward pass on a CPU);
* with overlap, the nudging model drafts the rest of its 16 tokens on the other core while the
  base checks boundaries as soon as their words are complete; the full draft is still waited
  for, because an EOS anywhere in it decides the answer.

The checks made, and so every logit the answer depends on, are the same with and without
overlap: boundaries in order, each on the same text, up to the same takeover.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from ._draft import CHAR_SLACK, Draft
from ._text import kept_text
from ._types import Piece

if TYPE_CHECKING:
    from ._rule import Controller, Takeover


class _DraftAhead:
    """The draft's remaining tokens, written in the background (with overlap) or at once."""

    def __init__(self, rule: Controller, draft: Draft):
        self._draft = draft
        self._jobs: list[Future[Any]] = []
        if rule.schedule.overlapping:
            for _ in range(draft.limit + CHAR_SLACK - draft.tokens + 1):
                job = rule.schedule.in_background(draft.step)
                if job is not None:
                    self._jobs.append(job)
        else:
            draft.fill()
        self._rule = rule

    def until(self, ready: Callable[[], bool]) -> None:
        """Wait until ``ready()`` holds or the draft is complete (only the worker writes the
        draft; it is read here only after the steps waited for have finished)."""
        while self._jobs and not ready():
            self._rule.schedule.wait_for(self._jobs.pop(0))

    def finish(self) -> None:
        self.until(lambda: False)


def find_takeover_exact(rule: Controller, draft: Draft) -> Generator[Piece, None, Takeover | None]:
    ahead = _DraftAhead(rule, draft)
    if draft.finished and draft.eos:  # known before any check (no overlap): none needed
        yield from rule.finish_with(draft)
    takeover = None
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
                    takeover = (i, token, p)
                    break
        i += 1
    ahead.finish()
    if draft.eos:
        yield from rule.finish_with(draft)
    return takeover


def _word_final(draft: Draft, i: int) -> Callable[[], bool]:
    return lambda: draft.finished or len(draft.words()[1]) > i + 1
