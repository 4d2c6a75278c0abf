"""Built-in tasks (made by code) and the --limit sample."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import numpy as np
import pytest

from nudge_local import SettingError
from nudge_local.eval import BUILTIN, resolve_task, resolve_tasks, sample_indices, score


@pytest.mark.parametrize("name", list(BUILTIN))
def test_builtin_tasks_are_large_deterministic_and_self_consistent(name):
    a, b = resolve_task(name), resolve_task(name)
    assert len(a.items) >= 300
    assert [(i.question, i.target) for i in a.items] == [(i.question, i.target) for i in b.items]
    assert len({i.question for i in a.items}) > 0.9 * len(a.items)  # hardly any repeats
    # The gold answer, written out, is read back as correct by the task's own scorer.
    for it in a.items[:50]:
        assert score(a.scorer, f"So the answer is {it.target}.", it).correct, it


def test_coin_flip_targets_follow_the_flips():
    for it in resolve_task("coin_flip").items:
        flips = it.question.count(" flips the coin.")
        assert it.target == ("yes" if flips % 2 == 0 else "no")
    targets = [it.target for it in resolve_task("coin_flip").items]
    assert 0.35 < targets.count("yes") / len(targets) < 0.65


def test_last_letters_and_dates_are_right():
    for it in resolve_task("last_letter_concat").items:
        words = re.search(r'"(.+)"', it.question).group(1).split()
        assert it.target == "".join(w[-1] for w in words).lower()
    for it in resolve_task("date_arithmetic").items:
        today = datetime.strptime(re.search(r"Today is (\w+ \d+, \d{4})", it.question).group(1), "%B %d, %Y")
        n = re.search(r"(\d+) (day|week)", it.question)
        step = 1 if "tomorrow" in it.question else -1 if "yesterday" in it.question else None
        if step is None:
            days = int(n.group(1)) * (7 if n.group(2) == "week" else 1)
            step = -days if "ago" in it.question else days
        assert it.target == (today + timedelta(days=step)).strftime("%m/%d/%Y")


def test_arithmetic_has_exact_integer_answers_some_negative():
    items = resolve_task("arithmetic").items
    assert all(re.fullmatch(r"-?\d+", it.target) for it in items)
    assert any(it.target.startswith("-") for it in items)
    apples = next(it for it in items if it.doc["template"] == "apples")
    a, b = map(int, re.findall(r"\d+", apples.question))
    assert int(apples.target) == a + b


def test_limit_draws_the_reference_sample():
    # The reference: np.random.seed(609); np.random.choice(n, 100, replace=False)
    np.random.seed(609)
    expected = np.random.choice(1319, 100, replace=False).tolist()
    assert sample_indices(1319, 100, 609) == expected
    assert sample_indices(50, 100, 609) == list(range(50))   # fewer items than the limit: all
    assert sample_indices(50, None, 609) == list(range(50))
    assert sample_indices(500, 10, 1) != sample_indices(500, 10, 2)
    with pytest.raises(SettingError):
        sample_indices(50, 0, 609)


def test_unknown_and_duplicate_tasks_are_one_sentence_errors():
    with pytest.raises(SettingError, match="Unknown task 'gsm9k'; known tasks: coin_flip"):
        resolve_task("gsm9k")
    with pytest.raises(SettingError, match="listed twice"):
        resolve_tasks(["coin_flip", "coin_flip"])
    with pytest.raises(SettingError, match="does not exist"):
        resolve_task("missing.toml")
