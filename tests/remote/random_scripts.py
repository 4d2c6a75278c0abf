"""Pseudo-random scripted pairs (deterministic per seed) for the engine comparisons.

``plain``: the next token and its probability drawn from a hash of the whole answer so far;
``loopy``: drawn from a hash of the answer's last 12 characters only, with mostly confident
tokens - the base falls into loops, long turns and the repetition guards.
"""

from __future__ import annotations

import hashlib
import random

WORDS = [" the", " answer", " is", " 42", ".", " A", " B", " C", " one", " two", " three", " ha", "ha", "\n",
         ",", " x", " y"]


def _rng(*parts: object) -> random.Random:
    return random.Random(int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:12], 16))


def base_table(seed: int, kind: str = "plain"):
    def table(answer):
        if answer is None:
            return "<eos>"
        if kind == "loopy":
            r = _rng("b", seed, answer[-12:])
            if r.random() < 0.01:
                return "<eos>"
            return {r.choice(WORDS[: 4 + seed % 6]): r.choice([0.3, 0.95, 0.95, 0.95, 0.95, 0.95])}
        r = _rng("b", seed, answer)
        if r.random() < 0.04:
            return "<eos>"
        return {r.choice(WORDS[: 8 + seed % 9]): r.choice([0.1, 0.25, 0.39, 0.4, 0.6, 0.95, 0.95])}
    return table


def nudging_table(seed: int):
    def table(answer):
        if answer is None:
            return "<eos>"
        r = _rng("n", seed, answer)
        if r.random() < 0.02 + len(answer) / 3000:
            return "<eos>"
        return r.choice(WORDS)
    return table


def case(seed: int, kind: str = "plain") -> tuple:
    return base_table(seed, kind), nudging_table(seed), {"max_tokens": 200 if kind == "plain" else 120}
