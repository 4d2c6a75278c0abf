"""One model's view of a generation: its prompt tokens plus the answer so far.

A session keeps the model's context in step with the shared answer *text*. The two models
have different tokenizers, so each one tokenizes the answer itself; the backend reuses the
longest common token prefix, so only new text is evaluated.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

import numpy as np

from ._backend import Backend

# Text put before an answer fragment when tokenizing it on its own, then dropped again.
# A newline never merges with the word after it in BPE vocabularies, and it stops SentencePiece
# tokenizers from adding their "dummy prefix" space to the fragment's first word.
_ANCHOR = "\n"
#: Text a model follows ahead of need is evaluated in blocks of this many tokens.
FOLLOW_BLOCK = 16


class Session:
    def __init__(self, backend: Backend, prompt_tokens: list[int]):
        self.backend = backend
        self.prompt = list(prompt_tokens)
        # What the backend's context holds (as far as this session asked it to).
        self.tokens: list[int] = []
        self._exact = False  # True when the backend holds exactly self.tokens
        self._prefix_ends: list[int] | None = None
        self._anchor = backend.tokenize(_ANCHOR)
        # The answer tokens in self.tokens and the bytes they spell. Text this model has
        # already seen keeps its tokens - in particular the tokens it generated itself, which
        # re-tokenizing the text could split differently and force re-evaluation.
        self._known: list[int] = []
        self._known_bytes = bytearray()  # appended to per token: no copy of the whole answer
        self._known_ends: list[int] = []  # cumulative byte length after each known token

    # -- tokenization -------------------------------------------------------------------------
    def answer_tokens(self, text: str) -> list[int]:
        """Tokens of ``text`` as a continuation of the prompt (no BOS, no dummy space)."""
        if not text:
            return []
        tokens = self.backend.tokenize(_ANCHOR + text)
        n = len(self._anchor)
        if n and tokens[:n] == self._anchor:
            return tokens[n:]
        return self.backend.tokenize(text)

    def count(self, text: str) -> int:
        if text.encode("utf-8") == self._known_bytes:
            return len(self._known)
        return len(self.answer_tokens(text))

    def _tokens_for(self, text: str) -> list[int]:
        """prompt + tokens of ``text``: the known tokens that spell a prefix of it, then the
        rest tokenized."""
        data = text.encode("utf-8")
        k = bisect_right(self._known_ends, _common_prefix(data, self._known_bytes))
        while k:
            try:
                rest = data[self._known_ends[k - 1]:].decode("utf-8")
                break
            except UnicodeDecodeError:  # that token ends inside a character
                k -= 1
        else:
            rest = text
        return self.prompt + self._known[:k] + self.answer_tokens(rest)

    def _remember(self, tokens: list[int]) -> None:
        self.tokens = tokens
        known = tokens[len(self.prompt):]
        # Usually the new answer tokens extend the old ones: only the new tail is measured.
        old = self._known
        k = len(old) if known[: len(old)] == old else 0
        ends = self._known_ends[:k]
        data = [self._known_bytes[: ends[-1]] if k else b""]
        for t in known[k:]:
            piece = self.backend.token_bytes(t)
            data.append(piece)
            ends.append((ends[-1] if ends else 0) + len(piece))
        self._known, self._known_ends, self._known_bytes = known, ends, bytearray(b"".join(data))

    # -- context ------------------------------------------------------------------------------
    @property
    def n_ctx(self) -> int:
        return self.backend.n_ctx

    def room(self, n: int = 1) -> bool:
        """Whether ``n`` more tokens fit in the context."""
        return len(self.tokens) + n <= self.backend.n_ctx

    def start(self) -> np.ndarray:
        """Evaluate the prompt at the start of a generation (see ``Backend.begin``)."""
        if len(self.prompt) > self.backend.n_ctx:
            raise ContextFull()
        logits = self.backend.begin(self.prompt)
        self._remember(list(self.prompt))
        self._exact = True
        return logits

    def follow(self, answer: str, block: int = FOLLOW_BLOCK) -> None:
        """Evaluate prompt + ``answer`` ahead of need, but only whole ``block``-token blocks
        at absolute positions and never the last token (it may still merge with text to
        come): what is evaluated then depends on the text alone, not on when it was asked."""
        tokens = self._tokens_for(answer)
        target = len(tokens) - 1
        target -= target % block
        have = _common_length(tokens, self.tokens) if self._exact else 0
        if target <= len(self.prompt) or target <= have or target > self.backend.n_ctx:
            return
        self.backend.evaluate(tokens[:target])
        self._remember(tokens[:target])
        self._exact = True

    def sync(self, answer: str) -> np.ndarray:
        """Make the context hold prompt + ``answer``; return the next-token logits."""
        return self.sync_prefixes([answer])[0]

    def sync_prefixes(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Next-token logits after each of ``texts`` (each a prefix of the next), evaluated in
        one batch where every text ends on a token boundary of the longest one."""
        last = texts[-1]
        tokens = self._tokens_for(last)
        if len(tokens) > self.backend.n_ctx:
            raise ContextFull()
        positions = self._boundaries(tokens, texts) if len(texts) > 1 else [len(tokens) - 1]
        if positions is None:  # some text ends inside a token: evaluate each on its own
            rows = [self.sync(t) for t in texts]
            self._prefix_ends = None
            return rows
        evaluated = self.backend.evaluate(tokens, positions)
        self._remember(tokens)
        self._exact = True
        self._prefix_ends = [p + 1 for p in positions]
        return list(evaluated)

    def rewind_to_prefix(self, k: int, text: str) -> None:
        """After :meth:`sync_prefixes`, make the context end after its ``k``-th text."""
        if self._prefix_ends is not None:
            self.keep(self._prefix_ends[k])
        else:
            self.sync(text)

    def _boundaries(self, tokens: list[int], texts: Sequence[str]) -> list[int] | None:
        ends = {}
        offset = 0
        start = len(self.prompt)
        for i in range(start, len(tokens)):
            offset += len(self.backend.token_bytes(tokens[i]))
            ends[offset] = i
        ends[0] = start - 1
        positions = []
        for text in texts:
            pos = ends.get(len(text.encode("utf-8")))
            if pos is None:
                return None
            positions.append(pos)
        return positions

    def keep(self, n_tokens: int) -> None:
        """Forget everything after the first ``n_tokens`` tokens (applied lazily on next eval)."""
        if n_tokens < len(self.tokens):
            self._remember(self.tokens[:n_tokens])
            self._exact = False

    def push(self, token: int) -> np.ndarray:
        """Append one token and return the logits after it."""
        if not self.room(1):
            raise ContextFull()
        self.tokens.append(token)
        self._known.append(token)
        piece = self.backend.token_bytes(token)
        self._known_bytes += piece
        self._known_ends.append(len(self._known_bytes))
        if self._exact:
            return self.backend.push(token)
        rows = self.backend.evaluate(self.tokens)
        self._exact = True
        return rows[0]


class ContextFull(Exception):
    """Internal: a model's context window is full (the generation stops with "context")."""


def _common_length(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    k = 0
    while a[k] == b[k]:
        k += 1
    return k


def _common_prefix(a: bytes | bytearray, b: bytes | bytearray) -> int:
    """Length of the longest common prefix of two byte strings (binary search on C compares)."""
    lo, hi = 0, min(len(a), len(b))
    if a[:hi] == b[:hi]:
        return hi
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo
