"""Stop strings: the answer ends right before the first occurrence of any of them.

Used for OpenAI-style ``stop`` and for the new-turn guard (a base model continuing its
``Question: …`` transcript writes the next question itself). Pieces are streamed as they come,
except a tail that could still grow into a stop string: it is held back until the next piece
settles it, so a caller never sees text that is then taken back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ._types import Piece, StopReason


@dataclass(frozen=True)
class StopString:
    text: str
    reason: StopReason


class StopFilter:
    """Feed pieces in order; get back the pieces that are safe to show."""

    def __init__(self, stops: Sequence[StopString]):
        self._stops = [s for s in stops if s.text]
        self._longest = max((len(s.text) for s in self._stops), default=0)
        self._text = ""  # everything fed so far
        self._shown = 0  # characters of _text already given out
        self._held: list[Piece] = []  # pieces (or their tails) not given out yet
        #: Set when a stop string was found: the reason and the answer up to it.
        self.reason: StopReason | None = None

    @property
    def active(self) -> bool:
        return bool(self._stops)

    def feed(self, piece: Piece) -> Iterator[Piece]:
        if self.reason is not None:
            return
        if not self._stops:
            yield piece
            return
        start = max(0, len(self._text) - self._longest + 1)
        self._text += piece.text
        self._held.append(piece)
        hit = self._first_match(start)
        if hit is not None:
            at, reason = hit
            self.reason = reason
            yield from self._release(at)
            self._held = []
            return
        yield from self._release(len(self._text) - self._unsettled_tail())

    def flush(self) -> Iterator[Piece]:
        """The generation ended: what was held back is answer text after all."""
        if self.reason is None:
            yield from self._release(len(self._text))

    @property
    def text(self) -> str:
        """The answer as far as it is settled (up to a stop string, if one was found)."""
        return self._text[: self._shown] if self.reason is not None else self._text

    def _first_match(self, start: int) -> tuple[int, StopReason] | None:
        best: tuple[int, StopReason] | None = None
        for stop in self._stops:
            at = self._text.find(stop.text, start)
            if at >= 0 and (best is None or at < best[0]):
                best = (at, stop.reason)
        return best

    def _unsettled_tail(self) -> int:
        """Length of the longest end of the text that is the beginning of a stop string."""
        text = self._text
        for n in range(min(self._longest - 1, len(text)), 0, -1):
            tail = text[-n:]
            if any(s.text.startswith(tail) for s in self._stops):
                return n
        return 0

    def _release(self, upto: int) -> Iterator[Piece]:
        """Give out held text up to character ``upto`` of the whole answer."""
        pos = self._shown
        keep: list[Piece] = []
        for piece in self._held:
            end = pos + len(piece.text)
            if end <= upto:
                if piece.text:
                    yield piece
            elif pos < upto:
                cut = upto - pos
                yield Piece(piece.text[:cut], piece.source, piece.confidence)
                keep.append(Piece(piece.text[cut:], piece.source, None))
            else:
                keep.append(piece)
            pos = end
        self._held = keep
        self._shown = max(self._shown, upto)
