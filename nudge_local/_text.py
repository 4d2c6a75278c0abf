"""Text helpers for the rule: UTF-8 assembly from token bytes, word splitting, repetition."""

from __future__ import annotations

import codecs


class Utf8Assembler:
    """Turns token bytes into text without ever emitting half a character.

    Tokenizers with byte fallback split one character (an emoji, a CJK character) across
    several tokens. ``feed`` returns only complete characters and keeps the rest pending.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data: bytes) -> str:
        return self._decoder.decode(data)

    @property
    def pending(self) -> bool:
        """True while the bytes fed so far end inside a character."""
        return bool(self._decoder.getstate()[0])

    def reset(self) -> None:
        self._decoder.reset()


def split_draft(text: str) -> tuple[str, list[str]]:
    """Split a nudge draft the way the reference does: keep its leading spaces apart, then
    split the rest on single spaces. ``prefix + " ".join(words) == text``; empty words come
    from runs of spaces and are never used as takeover points."""
    stripped = text.lstrip(" ")
    return text[: len(text) - len(stripped)], stripped.split(" ")


def kept_text(prefix: str, words: list[str], n: int) -> str:
    """The nudge text made of the first ``n`` words (what is appended to the answer)."""
    return prefix + " ".join(words[:n])


def is_repetitive_chunk(chunk: str, haystack: str, min_words: int = 5) -> bool:
    """The reference's guard: a chunk of more than ``min_words`` words that already appears
    verbatim in the answer."""
    return len(chunk.split(" ")) > min_words and chunk in haystack


def strip_repeated_suffix(text: str, min_len: int = 30) -> str:
    """Strip the answer, then, while it ends with a suffix of ``min_len``+ characters that
    immediately repeats itself (``...XX``), drop the last copy. Applied to final answers only,
    as in the reference."""
    s = text.strip()
    while True:
        cut = _longest_repeated_suffix(s, min_len)
        if not cut:
            return s
        s = s[:-cut]


def _longest_repeated_suffix(s: str, min_len: int) -> int:
    best = 0
    for length in range(min_len, len(s) // 2 + 1):
        if s.endswith(s[-length:] * 2):
            best = length
    return best
