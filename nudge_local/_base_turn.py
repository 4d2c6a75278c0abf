"""Step 3 of the rule: the base model writes while it is confident.

The base decides token by token (no token is decoded and then thrown away, unlike the
reference's 16-token chunks). Its text is judged in 16-token chunks by the reference's two
repetition guards: a chunk of more than 5 words already in the answer, or a chunk already in
this base turn, ends the turn without being appended. A chunk's pieces are held back only while
its text so far occurs in the answer - the only case where a guard can still fire - and are
released as soon as it does not ("committed").
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._draft import CHAR_SLACK
from ._sampling import top1
from ._text import Utf8Assembler, is_repetitive_chunk
from ._types import Piece, StopReason

if TYPE_CHECKING:
    from ._rule import Controller


class Stop(Exception):
    """Ends a generation with ``reason`` (raised through the rule's generators)."""

    def __init__(self, reason: StopReason):
        self.reason = reason


@dataclass
class _Chunk:
    #: tokens in this chunk: 16, but 15 for the first (the reference's first base completion
    #: holds the takeover token, which is kept unjudged, then 15 more)
    limit: int
    text: str = ""
    tokens: int = 0
    held: list[Piece] = field(default_factory=list)
    #: Released as it comes: its text stopped occurring in the answer, no guard can fire.
    committed: bool = False
    #: Exact mode, a chunk cut by an unsure token: the text of the reference's whole completion
    #: (what its first guard judges), as far as it was needed.
    whole: str | None = None


class BaseTurn:
    """One base turn, from the takeover token until the base is unsure (or a guard, a limit,
    a cancel ends it). Iterate :meth:`run`; its return value is the base's top-1 probability
    where it stopped, when known (the confidence of the next nudge's first piece)."""

    def __init__(self, rule: Controller, token: int, p: float):
        self.rule = rule
        self.base = rule.base
        self.cfg = rule.cfg
        self._token, self._p = token, p
        self._utf8 = Utf8Assembler()
        #: Text of this turn added to the answer (the answer always ends with it).
        self.turn = ""
        self._chunk = _Chunk(max(1, self.cfg.rule.chunk_tokens - 1))

    def run(self) -> Generator[Piece, None, float | None]:
        token, p = self._token, self._p
        yield from self._accept_first(token, p)
        stop: StopReason | None = None
        confidence: float | None = None
        while True:
            stop = self._limit()
            if stop is not None:
                break
            logits = self.base.push(token)
            best, p = top1(logits)
            token = self.rule.base_sampler.pick(logits, best)
            if self.base.backend.is_eog(token) or (p < self.cfg.gamma and not self._utf8.pending):
                confidence = p
                if self.cfg.exact and not self.base.backend.is_eog(token):
                    self._judge_whole_chunk(token)
                break
            if not (yield from self._accept(token, p)):
                break  # a repetition guard ended the turn
        yield from self._close_chunk()
        if stop is not None:
            raise Stop(stop)
        return confidence

    # -- accepting tokens ---------------------------------------------------------------------
    def _text_of(self, token: int) -> str:
        self.rule.counters.base_generated += 1
        self.rule.counters.output_tokens += 1
        return self._utf8.feed(self.base.backend.token_bytes(token))

    def _accept_first(self, token: int, p: float) -> Iterator[Piece]:
        """The takeover token is always kept (it is not part of a judged chunk)."""
        text = self._text_of(token)
        self.turn += text
        if text:
            yield from self.rule.emit(Piece(text, "base", p))

    def _accept(self, token: int, p: float) -> Generator[Piece, None, bool]:
        """Add one token to the current chunk; False when a guard ends the turn."""
        chunk = self._chunk
        text = self._text_of(token)
        chunk.text += text
        chunk.tokens += 1
        piece = Piece(text, "base", p)
        if chunk.committed:
            self.turn += text
            if text:
                yield from self.rule.emit(piece)
        else:
            chunk.held.append(piece)
            if chunk.text and chunk.text not in self.rule.answer:
                chunk.committed = True
                yield from self._release()
            elif not self.cfg.exact and is_repetitive_chunk(chunk.text, self.rule.answer,
                                                             self.cfg.rule.repeat_min_words):
                return False  # already copying: the chunk would be dropped at its end
            else:
                # The nudging model follows held text too (a held chunk is usually kept), but
                # not the token that dooms it: the next round would wait for it.
                self.rule.schedule.follow(self.rule.answer + chunk.text)
        if chunk.tokens >= chunk.limit:
            if not chunk.committed:
                if not self._chunk_ok():
                    return False
                yield from self._release()
            self._chunk = _Chunk(self.cfg.rule.chunk_tokens)
        return True

    def _limit(self) -> StopReason | None:
        if self.rule.cancel.is_set():
            return "cancelled"
        if self.cfg.exact and self._chunk.tokens:
            return None  # the reference checks the length only between whole chunks
        over = self.rule.counters.output_tokens - self.cfg.max_tokens
        if over >= 0 and (not self._utf8.pending or over >= CHAR_SLACK):
            return "length"
        return None

    def _judge_whole_chunk(self, token: int) -> None:
        """Exact mode, the turn ending at an unsure ``token`` inside a chunk: the reference's
        first guard judges its whole 16-token completion, the tokens after the unsure one
        included (``if completion in completion_base``). Those tokens matter only while the
        chunk's text is still part of this turn, so they are decoded only then, and only as
        long as it stays so; if the whole chunk is in the turn, the chunk is dropped."""
        chunk = self._chunk
        if chunk.committed or not chunk.tokens or chunk.text not in self.turn:
            return
        text, n, utf8 = chunk.text, chunk.tokens, Utf8Assembler()
        counters = self.rule.counters
        while True:
            text += utf8.feed(self.base.backend.token_bytes(token))
            n += 1
            counters.base_generated += 1
            counters.base_discarded += 1  # decoded only to judge the chunk
            if text not in self.turn:
                break
            if n >= chunk.limit or not self.base.room(1):
                break
            logits = self.base.push(token)
            token = self.rule.base_sampler.pick(logits, top1(logits)[0])
            if self.base.backend.is_eog(token):
                break
        chunk.whole = text

    # -- chunks -------------------------------------------------------------------------------
    def _release(self) -> Iterator[Piece]:
        """Append the chunk's held pieces to the answer."""
        chunk = self._chunk
        for piece in chunk.held:
            self.rule.answer += piece.text
            if piece.text:
                yield piece
        self.turn += "".join(p.text for p in chunk.held)
        chunk.held = []
        self.rule.schedule.follow(self.rule.answer)

    def _close_chunk(self) -> Iterator[Piece]:
        """The turn ended mid-chunk: keep the chunk if the guards allow it, else drop it."""
        chunk = self._chunk
        if chunk.tokens and not chunk.committed:
            if self._chunk_ok():
                yield from self._release()
            else:
                self.rule.counters.base_discarded += chunk.tokens
        self._chunk = _Chunk(self.cfg.rule.chunk_tokens)

    def _chunk_ok(self) -> bool:
        """The guards on a held chunk: not already in this base turn, and not more than
        ``repeat_min_words`` words already in the answer (held text is not in it yet)."""
        text = self._chunk.text
        judged = self._chunk.whole if self._chunk.whole is not None else text
        if judged in self.turn:
            return False
        return not is_repetitive_chunk(text, self.rule.answer, self.cfg.rule.repeat_min_words)
