"""A scripted :class:`~nudge_local._backend.Backend` for tests (the role httpx's MockTransport
plays there): no model files, fully deterministic, and it counts what it evaluates.

The vocabulary is a list of strings plus 256 byte tokens (byte fallback), so text with
characters outside the vocabulary is tokenized into raw bytes, just as llama.cpp does.
``script(text)`` gets the whole context as text (prompt + answer so far) and returns the
next-token distribution: either one token string (probability 1) or a ``{token: prob}`` dict
(the remaining probability mass is spread over the rest of the vocabulary).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ._backend import EvalCounters
from ._settings import ModelSettings

Script = Callable[[str], "str | Mapping[str, float]"]

EOS = "<eos>"


class FakeBackend:
    def __init__(
        self,
        vocab: Sequence[str],
        script: Script,
        *,
        n_ctx: int = 4096,
        specials: Sequence[str] = (EOS,),
        bos: str | None = None,
        chat_template: str | None = None,
        metadata: Mapping[str, str] | None = None,
        settings: ModelSettings | None = None,
    ):
        self.n_ctx = n_ctx
        self.script = script
        self._chat_template = chat_template
        self._metadata = dict(metadata or {})
        self._settings = settings
        self.specials = list(specials) + ([bos] if bos and bos not in specials else [])
        words = [w for w in dict.fromkeys(vocab) if w and w not in self.specials]
        self.pieces: list[str | bytes] = [*self.specials, *words, *(bytes([b]) for b in range(256))]
        self.ids = {p: i for i, p in enumerate(self.pieces) if isinstance(p, str)}
        self._byte0 = len(self.specials) + len(words)
        self.eos_id = self.ids[specials[0]] if specials else None
        self._bos_id = self.ids[bos] if bos else None
        self._max_len = max((len(w) for w in self.ids), default=1)
        self.held: list[int] = []
        # Counters tests assert on.
        self._counters = EvalCounters()
        self.evaluate_calls = 0
        self.push_calls = 0
        self.begin_calls = 0
        self.closed = False
        self.thread_changes: list[int] = []

    # -- Backend protocol ---------------------------------------------------------------------
    engine = "fake"
    path = None

    @property
    def metadata(self) -> Mapping[str, str]:
        return self._metadata

    @property
    def chat_template(self) -> str | None:
        return self._chat_template

    @property
    def settings(self) -> ModelSettings | None:
        return self._settings

    @property
    def counters(self) -> EvalCounters:
        return self._counters

    @property
    def evaluated_tokens(self) -> int:
        return self._counters.evaluated_tokens

    @property
    def bos_id(self) -> int | None:
        return self._bos_id

    @property
    def n_vocab(self) -> int:
        return len(self.pieces)

    def tokenize(self, text: str, *, special: bool = False, add_bos: bool = False) -> list[int]:
        out = [self._bos_id] if add_bos and self._bos_id is not None else []
        i = 0
        while i < len(text):
            for n in range(min(self._max_len, len(text) - i), 0, -1):
                piece = text[i : i + n]
                tid = self.ids.get(piece)
                if tid is not None and (special or piece not in self.specials):
                    out.append(tid)
                    i += n
                    break
            else:
                out.extend(self._byte0 + b for b in text[i].encode("utf-8"))
                i += 1
        return out

    def token_bytes(self, token: int) -> bytes:
        piece = self.pieces[token]
        if isinstance(piece, bytes):
            return piece
        return b"" if piece in self.specials else piece.encode("utf-8")

    def set_threads(self, n_threads: int) -> None:
        self.thread_changes.append(n_threads)
        if self._settings is not None:
            self._settings = ModelSettings(self._settings.n_ctx, n_threads, self._settings.n_gpu_layers)

    def token_text(self, token: int, *, special: bool = True) -> str:
        piece = self.pieces[token]
        if isinstance(piece, bytes):
            return piece.decode("utf-8", "replace")
        return piece if special or piece not in self.specials else ""

    def is_eog(self, token: int) -> bool:
        return token == self.eos_id

    def evaluate(self, tokens: Sequence[int], logits_at: Sequence[int] | None = None) -> np.ndarray:
        tokens = list(tokens)
        positions = list(logits_at) if logits_at is not None else [len(tokens) - 1]
        keep = 0
        while keep < min(len(tokens), len(self.held)) and tokens[keep] == self.held[keep]:
            keep += 1
        # Logits of positions inside the reused prefix are not kept, except the last one.
        for pos in positions:
            if pos < keep and not (pos == keep - 1 == len(self.held) - 1):
                keep = pos
        n = len(tokens) - keep
        if n == 1:
            self._counters.single_tokens += 1
        elif n > 1:
            self._counters.batched_tokens += n
        self._counters.decode_calls += n > 0
        self._counters.rows_read += len(positions)
        self.evaluate_calls += 1
        self.held = tokens
        return np.stack([self._logits(tokens[: pos + 1]) for pos in positions])

    def begin(self, prompt: Sequence[int]) -> np.ndarray:
        self.begin_calls += 1
        row: np.ndarray = self.evaluate(prompt)[0]
        return row

    def push(self, token: int) -> np.ndarray:
        self.held.append(token)
        self._counters.single_tokens += 1
        self._counters.decode_calls += 1
        self._counters.rows_read += 1
        self.push_calls += 1
        return self._logits(self.held)

    def close(self) -> None:
        self.closed = True

    # -- helpers ------------------------------------------------------------------------------
    def text_of(self, tokens: Sequence[int]) -> str:
        return b"".join(self.token_bytes(t) for t in tokens).decode("utf-8", "replace")

    def _logits(self, context: Sequence[int]) -> np.ndarray:
        dist = self.script(self.text_of(context))
        if isinstance(dist, str):
            dist = {dist: 1.0}
        rest = max(0.0, 1.0 - sum(dist.values()))
        floor = np.log(rest / (self.n_vocab - len(dist))) if rest > 1e-12 else -1e9
        logits = np.full(self.n_vocab, floor, dtype=np.float32)
        for piece, prob in dist.items():
            tid = self.ids.get(piece)
            if tid is None:  # a byte token written as "<0xC3>"
                tid = self._byte0 + int(piece[3:5], 16)
            logits[tid] = np.log(prob)
        return logits
