"""McNemar's exact test and the standard error, against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from nudge_local.eval import mcnemar_exact, standard_error
from nudge_local.eval._stats import discordant


@pytest.mark.parametrize(("b", "c", "p"), [
    # p = 2 * sum_{i <= min(b, c)} C(b + c, i) / 2^(b + c), capped at 1.
    (0, 0, 1.0),                 # no discordant pairs: no evidence either way
    (0, 1, 1.0),                 # 2 * 1/2 = 1
    (0, 5, 0.0625),              # 2 * 1/32
    (5, 0, 0.0625),              # symmetric
    (1, 9, 0.021484375),         # 2 * (1 + 10) / 1024 = 22/1024
    (2, 8, 0.109375),            # 2 * (1 + 10 + 45) / 1024 = 112/1024
    (0, 10, 0.001953125),        # 2 / 1024
    (3, 3, 1.0),                 # 2 * 42/64 > 1, capped
    (2, 3, 1.0),                 # 2 * 16/32 = 1
    (1, 4, 0.375),               # 2 * (1 + 5) / 32 = 12/32
])
def test_mcnemar_exact_matches_hand_computed_values(b, c, p):
    assert mcnemar_exact(b, c) == pytest.approx(p, abs=1e-15)


def test_mcnemar_exact_large_counts_stay_exact():
    # 10 vs 30 of 40 discordant pairs: 2 * sum_{i<=10} C(40, i) / 2^40 (floats would lose it:
    # the terms span 12 orders of magnitude).
    expected = 2 * sum(math.comb(40, i) for i in range(11)) / 2**40
    assert mcnemar_exact(10, 30) == pytest.approx(expected, rel=1e-12)


def test_mcnemar_rejects_negative_counts():
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 3)


def test_discordant_pairs_are_counted_by_position():
    first = [True, True, False, False, True]
    second = [True, False, True, False, False]
    assert discordant(first, second) == (2, 1)
    with pytest.raises(ValueError):
        discordant([True], [True, False])


def test_standard_error_uses_the_sample_variance():
    # p = 0.5 over 10 items: sqrt(0.25 / 9) = 1/6
    assert standard_error([True] * 5 + [False] * 5) == pytest.approx(1 / 6)
    # p = 0.2 over 5: sqrt(0.16 / 4) = 0.2
    assert standard_error([True] + [False] * 4) == pytest.approx(0.2)
    assert standard_error([True] * 4) == 0.0
    assert standard_error([True]) is None
