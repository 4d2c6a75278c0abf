"""Choosing the next token from logits: greedy by default, temperature/top-p sampling on request.

Every function here does a constant number of vectorised passes over the vocabulary, once per
step (the hot-path rule)."""

from __future__ import annotations

import threading

import numpy as np


def top1(logits: np.ndarray) -> tuple[int, float]:
    """The most likely token and its probability under softmax at temperature 1 (the gamma
    gate always uses temperature 1, whatever temperature picks tokens)."""
    best = int(np.argmax(logits))
    # One scratch buffer per thread and vocabulary size: no 1 MB allocations per step on a
    # 262k vocabulary. float32 exp is enough (every term is <= 1).
    buf = _scratch(logits.shape[0])
    np.subtract(logits, logits[best], out=buf)
    np.exp(buf, out=buf)
    return best, 1.0 / float(buf.sum(dtype=np.float64))


_local = threading.local()


def _scratch(n: int) -> np.ndarray:
    buf = getattr(_local, "buf", None)
    if buf is None or buf.shape[0] != n:
        buf = _local.buf = np.empty(n, dtype=np.float32)
    return buf


class Sampler:
    def __init__(self, temperature: float = 0.0, top_p: float = 1.0, seed: int | None = None):
        self.temperature = float(temperature)
        self.top_p = float(top_p)
        self._rng = np.random.default_rng(seed)

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0

    def pick(self, logits: np.ndarray, best: int) -> int:
        """``best`` is the argmax, already known from :func:`top1`."""
        if self.greedy:
            return best
        scaled = (logits.astype(np.float64) - float(logits[best])) / self.temperature
        probs = np.exp(scaled)
        probs /= probs.sum()
        if self.top_p < 1.0:
            order = np.argsort(probs)[::-1]
            cumulative = np.cumsum(probs[order])
            keep = order[: int(np.searchsorted(cumulative, self.top_p)) + 1]
            kept = probs[keep]
            return int(keep[self._rng.choice(len(keep), p=kept / kept.sum())])
        return int(self._rng.choice(len(probs), p=probs))
