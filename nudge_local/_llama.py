"""The llama.cpp backend: one ``llama_cpp.Llama`` per model, driven through its context.

``Llama`` loads the model and creates the context; evaluation goes through our own
``llama_batch`` so we can ask for logits at exactly the positions we need (several word
boundaries in one batch) and read them straight from the context, without ``logits_all``.
We track what the KV cache holds ourselves and only ever evaluate the new tail.
"""

from __future__ import annotations

import ctypes
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ._backend import EvalCounters
from ._contention import ThreadWatch
from ._errors import ModelClosedError, ModelFileError, SettingError
from ._llama_load import (
    N_BATCH,
    _check_memory,
    _install_log_callback,
    _quiet,
    _weight_repack,
    amx_is_safe,
    check_gguf,
)
from ._settings import ModelSettings

__all__ = ["LlamaCppBackend", "N_BATCH", "PROMPT_BLOCK", "check_gguf"]

# Prompts are evaluated in blocks that start at multiples of this many tokens, and only whole
# such blocks are reused by the next generation. llama.cpp's logits depend (by up to ~0.8 on
# Gemma 3) on how tokens were split into batches; fixed blocks make a generation's result
# independent of what earlier generations left in the cache (greedy runs are deterministic).
PROMPT_BLOCK = 16
# Logits kept for recent positions: at most this many rows, in at most this much memory
# (12 rows of Gemma's 262k vocabulary, 32 of SmolLM2's 49k).
MAX_ROWS = 32
ROWS_BUDGET_BYTES = 12 * 1024 * 1024


class LlamaCppBackend:
    def __init__(self, path: str | os.PathLike[str], settings: ModelSettings | None = None, *,
                 verbose: bool = False):
        import llama_cpp
        from llama_cpp import _internals

        self._lib = llama_cpp
        self.file = check_gguf(path)
        self._settings = (settings or ModelSettings()).check().resolved()
        s = self._settings
        _check_memory(self.file, s)
        _install_log_callback(llama_cpp)
        try:
            with _quiet(verbose), _weight_repack(amx_is_safe()):
                self.llm: Any = llama_cpp.Llama(
                    model_path=str(self.file),
                    n_ctx=s.n_ctx,
                    n_batch=N_BATCH,
                    n_threads=s.n_threads,
                    n_threads_batch=s.n_threads,
                    n_gpu_layers=s.n_gpu_layers or 0,
                    # Sliding-window models (Gemma 2/3) can only rewind a full-size cache.
                    swa_full=True,
                    # True: llama-cpp-python must not redirect the process's stdout/stderr
                    # (see _quiet); what it would print is caught there.
                    verbose=True,
                )
        except (ValueError, RuntimeError) as exc:
            raise ModelFileError(f"llama.cpp could not load {self.file.name}: {exc}.") from None
        self.n_ctx = self.llm.n_ctx()
        self._ctx = self.llm.ctx
        self._vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
        self.n_vocab = self.llm.n_vocab()
        self._mem = llama_cpp.llama_get_memory(self._ctx)
        # llama.cpp caps a context's batch at its size: never hand it more tokens at once.
        self._n_batch = min(N_BATCH, int(llama_cpp.llama_n_batch(self._ctx)))
        self._batch: Any = _internals.LlamaBatch(n_tokens=N_BATCH, embd=0, n_seq_max=1, verbose=False)
        self._metadata: dict[str, str] = dict(self.llm.metadata)
        self._settings = ModelSettings(n_ctx=self.n_ctx, n_threads=s.n_threads, n_gpu_layers=s.n_gpu_layers)
        eos = llama_cpp.llama_vocab_eos(self._vocab)
        self._eos = eos if eos >= 0 else None
        self._pieces: dict[int, bytes] = {}
        self._eog: dict[int, bool] = {}
        self._add_bos = bool(llama_cpp.llama_vocab_get_add_bos(self._vocab))
        bos = llama_cpp.llama_vocab_bos(self._vocab)
        self._bos = bos if bos >= 0 else None
        # What the KV cache holds. The context is its first ``_n`` tokens; the rest is text the
        # caller stepped back from (a chunk the repetition guards dropped, say), kept until
        # something else is written there: when the same tokens come again (a base model in a
        # loop writes them again after every drop), they and their logits are reused.
        self.held: list[int] = []
        self._n = 0
        self._canonical = 0  # leading held tokens evaluated in whole prompt blocks
        # Logits rows of recent positions (position -> row), valid while ``held`` keeps its
        # prefix up to there: stepping back needs no re-evaluation.
        self._rows: dict[int, np.ndarray] = {}
        self._max_rows = max(2, min(MAX_ROWS, ROWS_BUDGET_BYTES // (4 * self.n_vocab)))
        self._counters = EvalCounters()
        # A busy core elsewhere: single-token evaluations fall back to one thread (``_contention``).
        self._watch = ThreadWatch()
        self._threads_now = s.n_threads

    # -- what the public layer may know -------------------------------------------------------
    engine = "llama.cpp"

    @property
    def path(self) -> str:
        return str(self.file)

    @property
    def metadata(self) -> Mapping[str, str]:
        return self._metadata

    @property
    def chat_template(self) -> str | None:
        return self._metadata.get("tokenizer.chat_template")

    @property
    def settings(self) -> ModelSettings:
        return self._settings

    @property
    def counters(self) -> EvalCounters:
        return self._counters

    @property
    def eos_id(self) -> int | None:
        return self._eos

    # -- tokens -------------------------------------------------------------------------------
    @property
    def bos_id(self) -> int | None:
        return self._bos if self._add_bos else None

    def tokenize(self, text: str, *, special: bool = False, add_bos: bool = False) -> list[int]:
        self._check_open()
        data = text.encode("utf-8")
        cap = len(data) + 8
        buf = (self._lib.llama_token * cap)()
        n = self._lib.llama_tokenize(self._vocab, data, len(data), buf, cap, add_bos, special)
        if n < 0:  # never for cap >= bytes + bos, but keep llama.cpp's contract
            cap = -n
            buf = (self._lib.llama_token * cap)()
            n = self._lib.llama_tokenize(self._vocab, data, len(data), buf, cap, add_bos, special)
        return list(buf[:n])

    def token_bytes(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            self._check_open()
            self._check_token(token)
            buf = ctypes.create_string_buffer(64)
            n = self._lib.llama_token_to_piece(self._vocab, token, buf, 64, 0, False)
            piece = buf.raw[: max(n, 0)]
            self._pieces[token] = piece
        return piece

    def token_text(self, token: int, *, special: bool = True) -> str:
        self._check_open()
        buf = ctypes.create_string_buffer(128)
        n = self._lib.llama_token_to_piece(self._vocab, token, buf, 128, 0, special)
        return buf.raw[: max(n, 0)].decode("utf-8", "replace")

    def is_eog(self, token: int) -> bool:
        eog = self._eog.get(token)
        if eog is None:
            self._check_open()
            self._check_token(token)
            eog = self._eog[token] = bool(self._lib.llama_vocab_is_eog(self._vocab, token))
        return eog

    # -- evaluation ---------------------------------------------------------------------------
    def evaluate(self, tokens: Sequence[int], logits_at: Sequence[int] | None = None) -> list[np.ndarray]:
        self._check_open()
        tokens = list(tokens)
        positions = list(logits_at) if logits_at is not None else [len(tokens) - 1]
        keep = _common_length(tokens, self.held)
        for pos in positions:
            if pos < keep and pos not in self._rows:
                keep = pos  # that row is gone: evaluate again from there
        if keep == len(tokens) and len(tokens) - 1 not in self._rows:
            keep -= 1  # the last token must be evaluated again to get its logits
        rows = {p: self._rows[p] for p in positions if p < keep}
        self._counters.rows_reused += len(rows)
        if keep < len(tokens):
            if self._truncate(keep) < keep:  # the cache had to be cleared: start over
                keep, rows = 0, {}
            want = set(positions)
            for start in range(keep, len(tokens), self._n_batch):
                chunk = tokens[start : start + self._n_batch]
                flags = [start + i in want or start + i == len(tokens) - 1 for i in range(len(chunk))]
                for i, row in self._decode(chunk, start, flags).items():
                    rows[start + i] = row
            self.held = tokens
        self._n = len(tokens)
        return [rows[p] for p in positions]

    def begin(self, prompt: Sequence[int]) -> np.ndarray:
        self._check_open()
        prompt = list(prompt)
        keep = min(_common_length(prompt, self.held), self._canonical)
        keep -= keep % PROMPT_BLOCK
        if keep == len(prompt):  # the last block must be evaluated again for its logits
            keep -= PROMPT_BLOCK
        keep = self._truncate(keep)
        logits = None
        for start in range(keep, len(prompt), PROMPT_BLOCK):
            block = prompt[start : start + PROMPT_BLOCK]
            last = start + len(block) >= len(prompt)
            out = self._decode(block, start, [last and i == len(block) - 1 for i in range(len(block))])
            if last:
                logits = out[len(block) - 1]
        self.held = prompt
        self._n = len(prompt)
        self._canonical = len(prompt) - len(prompt) % PROMPT_BLOCK
        assert logits is not None  # the last block always asks for its logits
        return logits

    def push(self, token: int) -> np.ndarray:
        self._check_open()
        n = self._n
        if n < len(self.held) and self.held[n] == token and n in self._rows:
            self._n = n + 1  # written before and kept: no evaluation
            self._counters.rows_reused += 1
            return self._rows[n]
        if n < len(self.held):
            context = self.held[:n]
            if self._truncate(n) < n:  # the cache had to be cleared: evaluate it all again
                return self.evaluate(context + [token])[0]
        logits = self._decode([token], n, [True])[0]
        self.held.append(token)
        self._n = n + 1
        return logits

    def _truncate(self, keep: int) -> int:
        """Drop the cache from position ``keep`` on; returns how much it still holds (0 when
        the cache cannot drop a tail and had to be cleared)."""
        if keep >= len(self.held):
            return len(self.held)
        if not self._lib.llama_memory_seq_rm(self._mem, 0, keep, -1):
            # A cache that cannot drop a tail (recurrent models): start over.
            self._lib.llama_memory_clear(self._mem, True)
            keep = 0
        self.held = self.held[:keep]
        self._n = min(self._n, keep)
        self._canonical = min(self._canonical, keep)
        for pos in [p for p in self._rows if p >= keep]:
            del self._rows[pos]
        return keep

    def _decode(self, chunk: Sequence[int], start: int, flags: Sequence[bool]) -> dict[int, np.ndarray]:
        b = self._batch.batch
        b.n_tokens = len(chunk)
        for i, tok in enumerate(chunk):
            b.token[i] = tok
            b.pos[i] = start + i
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = 0
            b.logits[i] = flags[i]
        single = len(chunk) == 1
        n = self._settings.n_threads or 1
        threads = self._watch.threads(n) if single else self._watch.batch_threads(n)
        if threads != self._threads_now:
            self._lib.llama_set_n_threads(self._ctx, threads, threads)
            self._threads_now = threads
        t0 = time.perf_counter()
        rc = self._lib.llama_decode(self._ctx, b)
        elapsed = time.perf_counter() - t0
        if single and rc == 0 and self._watch.record(threads, elapsed):
            self._counters.one_thread_fallbacks += 1
        c = self._counters
        c.decode_seconds += elapsed
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")
        c.decode_calls += 1
        if len(chunk) == 1:
            c.single_tokens += 1
        else:
            c.batched_tokens += len(chunk)
        out = {}
        for i, flag in enumerate(flags):
            if flag:
                ptr = self._lib.llama_get_logits_ith(self._ctx, i)
                row = np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).copy()
                row.flags.writeable = False  # shared with the cache: nobody may change it
                out[i] = self._rows[start + i] = row
                c.rows_read += 1
        if len(self._rows) > self._max_rows:
            for pos in sorted(self._rows)[: len(self._rows) - self._max_rows]:
                del self._rows[pos]
        return out

    def set_threads(self, n_threads: int) -> None:
        self._check_open()
        self._lib.llama_set_n_threads(self._ctx, n_threads, n_threads)
        self._threads_now = n_threads
        self._watch = ThreadWatch()  # a new plan: its timings start afresh
        self._settings = replace(self._settings, n_threads=n_threads)

    def _check_open(self) -> None:
        if self.llm is None:
            raise ModelClosedError(f"The model {self.file.name} was closed; load it again to use it.")

    def _check_token(self, token: int) -> None:
        if isinstance(token, bool) or not isinstance(token, int) or not 0 <= token < self.n_vocab:
            raise SettingError(f"Token id {token!r} is outside the vocabulary of {self.file.name} "
                               f"(0..{self.n_vocab - 1}).")

    def close(self) -> None:
        if self.llm is not None:
            self._batch.close()
            self.llm.close()
            self.llm = None


def _common_length(a: list[int], b: list[int]) -> int:
    """Length of the longest common prefix of two token lists. Usually one extends the other,
    which a C-level slice comparison settles without a Python loop over the context."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    keep = 0
    while a[keep] == b[keep]:
        keep += 1
    return keep
