"""Accuracy with its standard error, and McNemar's exact test for two systems on the same items."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction


def accuracy(correct: Sequence[bool]) -> float | None:
    return sum(correct) / len(correct) if correct else None


def standard_error(correct: Sequence[bool]) -> float | None:
    """Standard error of the mean of 0/1 scores, with the sample variance (n - 1), as
    lm-evaluation-harness reports it: sqrt(p (1 - p) / (n - 1))."""
    n = len(correct)
    if n < 2:
        return None
    p = sum(correct) / n
    return math.sqrt(p * (1 - p) / (n - 1))


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pairs: ``b`` items only the first
    system got right, ``c`` items only the second did. Under the null hypothesis each
    discordant item is a fair coin, so p = 2 * P(X <= min(b, c)) for X ~ Binomial(b + c, 1/2),
    capped at 1. No discordant items: p = 1."""
    if b < 0 or c < 0:
        raise ValueError("discordant counts cannot be negative")
    n = b + c
    if n == 0:
        return 1.0
    tail = Fraction(sum(math.comb(n, i) for i in range(min(b, c) + 1)), 2**n)
    return float(min(Fraction(1), 2 * tail))


def discordant(first: Sequence[bool], second: Sequence[bool]) -> tuple[int, int]:
    """(items only ``first`` got right, items only ``second`` got right), paired by position."""
    if len(first) != len(second):
        raise ValueError("paired scores must have the same length")
    only_first = sum(1 for a, b in zip(first, second, strict=True) if a and not b)
    only_second = sum(1 for a, b in zip(first, second, strict=True) if b and not a)
    return only_first, only_second
