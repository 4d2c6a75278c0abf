"""The engine's pieces as the deltas a client is sent, so that the deltas always join to the
final answer - which a stream cannot take back.

A nudged answer is cleaned up when it ends, as in the reference: stripped, then, while it ends
with a run of 30 or more characters written twice in a row, the last copy is dropped (a base
model stuck in a loop), longest first. The text kept is therefore ``kept(e)`` for the end
``e`` of the answer's last word, where ``kept(q)`` is the length left when the drops are
applied to the first ``q`` characters - and every state the drops pass through is a copy
boundary ``q`` whose own ``kept(q)`` is that same final length.

So text is held back while it might still be dropped. Whitespace after the last word is held
(it goes if the answer ends there). If the answer is in the middle of a copy that will be
dropped, the copy began at some ``q`` after which the text repeats itself at a distance of 30+
characters: ``q`` lies within the longest such repeating tail. Text up to the least
``kept(q)`` over those ``q`` (and the end itself) is final whatever comes next; only that is
sent. Ordinary text holds back a word or so; a loop holds back until it breaks.

When the answer ends, the rest of the final text is sent (with its sources, from the result's
spans). One model alone (``only``) is not cleaned up: its pieces pass as they are.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np

from nudge_local import Piece, Span

log = logging.getLogger("nudge_local.server")

Source = Literal["base", "nudging"]

#: The shortest repeat the final clean-up drops (the reference's, in the engine's answer clean-up).
MIN_REPEAT = 30


class RepeatTail:
    """The length of the longest tail of a growing text that also occurs ending at least
    ``min_period`` characters earlier - the longest repeat at a distance of ``min_period`` or
    more that is still going on. It grows by at most one per character, so each update starts
    from the last answer plus the characters added and searches down (a few ``str.find`` per
    character, amortized)."""

    def __init__(self, min_period: int = MIN_REPEAT):
        self.min_period = min_period
        self._end = 0
        self.longest = 0

    def update(self, text: str, end: int) -> int:
        """The longest repeat tail of ``text[:end]``; ``end`` never decreases between calls."""
        limit = end - self.min_period
        k = min(self.longest + end - self._end, limit)
        while k > 0 and text.find(text[end - k : end], 0, limit) == -1:
            k -= 1
        self.longest, self._end = max(k, 0), end
        return self.longest


class DeltaShaper:
    """Turns pieces into deltas (see the module's docstring); ``clean`` for nudged answers."""

    def __init__(self, *, clean: bool):
        self.clean = clean
        self._segments: list[tuple[int, str, Source, float | None]] = []  # (start, text, source, confidence)
        self._text = ""
        self._length = 0
        self._released = 0
        self._next_segment = 0
        self._solid_end = 0  # just past the last character that is not whitespace
        self._safe_end = 0  # what no continuation of the answer can take back
        self._tail = RepeatTail()
        self._kept = np.zeros(256, dtype=np.int64)  # _kept[q]: kept(q), for q < self._kept_known
        self._kept_known = 1

    def feed(self, piece: Piece) -> list[Piece]:
        text = piece.text
        if not self.clean:
            return [piece] if text else []
        if not self._length:
            text = text.lstrip()
            if not text:
                return []
        start = self._length
        self._segments.append((start, text, piece.source, piece.confidence))
        self._text += text
        self._length += len(text)
        solid = len(text.rstrip())
        if solid:
            self._solid_end = start + solid
            repeat = self._tail.update(self._text, self._solid_end)
            self._know_kept(self._solid_end)
            self._safe_end = int(self._kept[self._solid_end - repeat : self._solid_end + 1].min())
        return self._release(self._safe_end)

    def finish(self, final_text: str, spans: list[Span]) -> list[Piece]:
        """The deltas that complete the stream once the answer is ``final_text``."""
        if not self.clean:
            return []
        sent = self._text[: self._released]
        if not final_text.startswith(sent):
            # Not expected (the clean-up only strips and drops repeats); the spans stay right.
            log.warning("the streamed text is not a prefix of the final answer")
            return []
        out, pos = [], 0
        for span in spans:
            a, b = max(len(sent), pos), pos + len(span.text)
            if a < b:
                out.append(Piece(span.text[a - pos :], span.source))
            pos = b
        return out

    def _know_kept(self, end: int) -> None:
        """Fill in ``kept(q)`` up to ``end`` (each prefix is written once, so each is computed once)."""
        if end >= len(self._kept):
            self._kept = np.concatenate([self._kept, np.zeros(max(end + 1, len(self._kept)), dtype=np.int64)])
        for q in range(self._kept_known, end + 1):
            self._kept[q] = kept_length(self._text, q)
        self._kept_known = max(self._kept_known, end + 1)

    def _release(self, upto: int) -> list[Piece]:
        out = []
        while self._released < upto:
            start, text, source, confidence = self._segments[self._next_segment]
            end = start + len(text)
            if self._released >= end:
                self._next_segment += 1
                continue
            a, b = self._released - start, min(upto, end) - start
            out.append(Piece(text[a:b], source, confidence if a == 0 else None))
            self._released = start + b
        return out


def cleaned(text: str, min_len: int = MIN_REPEAT) -> str:
    """The engine's clean-up of a nudged answer: strip, then drop repeats (:func:`kept_length`)."""
    s = text.strip()
    return s[: kept_length(s, len(s), min_len)]


def kept_length(s: str, n: int, min_len: int = MIN_REPEAT) -> int:
    """What is left of ``s[:n]`` once, while it ends with a suffix of ``min_len``+ characters
    that immediately repeats itself, the last copy is dropped (the longest such suffix first)."""
    while cut := _longest_repeated_suffix(s, n, min_len):
        n -= cut
    return n


def _longest_repeated_suffix(s: str, n: int, min_len: int) -> int:
    """The longest ``p`` >= ``min_len`` with ``s[n-2p:n-p] == s[n-p:n]``, else 0. Both copies end
    with the last ``min_len`` characters, so only where those occur earlier needs checking
    (about linear time, where trying every ``p`` would be quadratic)."""
    if n < 2 * min_len:
        return 0
    probe = s[n - min_len : n]
    best = 0
    pos = s.find(probe, 0, n - min_len)
    while pos != -1:
        period = n - (pos + min_len)  # the first copy would end where this occurrence does
        if period > best and min_len <= period <= n // 2 and s[n - period : n] == s[n - 2 * period : n - period]:
            best = period
        pos = s.find(probe, pos + 1, n - min_len)
    return best
