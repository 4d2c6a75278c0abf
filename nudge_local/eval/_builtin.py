"""Tasks made by code: no files needed, the same items on every machine.

Each generator draws from its own ``random.Random`` seeded with the task's name and version,
so the items never depend on ``--seed`` (which only picks the ``--limit`` sample) or on the
Python hash seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from ._scoring import SCORERS
from ._tasks import Item, Task

N_ITEMS = 500
VERSION = "1"

_NAMES = [
    "Ava", "Liam", "Noah", "Emma", "Mia", "Lucas", "Zoe", "Omar", "Priya", "Kenji", "Sofia", "Mateo",
    "Lena", "Ivan", "Aisha", "Tom", "Nora", "Elias", "Grace", "Hugo", "Maya", "Ravi", "Chloe", "Felix",
    "Iris", "Jonah", "Kira", "Leo", "Mila", "Nadia", "Oscar", "Pablo", "Rosa", "Sam", "Tara", "Uma",
    "Victor", "Wendy", "Yusuf", "Zara", "Bruno", "Clara", "Diego", "Elena", "Farah", "Gita", "Hana",
]
_SURNAMES = [
    "Smith", "Garcia", "Kim", "Patel", "Novak", "Silva", "Okafor", "Jensen", "Rossi", "Tanaka",
    "Muller", "Dubois", "Khan", "Lopez", "Berg", "Costa", "Ivanova", "Haddad", "Moreau", "Walsh",
]


def _rng(name: str) -> random.Random:
    return random.Random(f"nudge-local eval {name} v{VERSION}")


def coin_flip() -> Task:
    """The paper's coin-flip task (Wei et al. 2022's format): two people flip the coin or not;
    is it still heads up?"""
    rng = _rng("coin_flip")
    items = []
    for i in range(N_ITEMS):
        people = rng.sample(_NAMES, 2)
        flips = [rng.random() < 0.5 for _ in people]
        sentences = " ".join(f"{p} flips the coin." if f else f"{p} does not flip the coin."
                             for p, f in zip(people, flips, strict=True))
        question = f"A coin is heads up. {sentences} Is the coin still heads up?"
        target = "no" if sum(flips) % 2 else "yes"
        items.append(Item(i, question, target, {"question": question, "answer": target}))
    return Task("coin_flip", items, SCORERS["coin"], version=VERSION,
                description="coin flip (2 people), yes/no")


def last_letter_concat() -> Task:
    """The paper's last-letter concatenation (Kojima et al.'s wording), on 2 to 4 names."""
    rng = _rng("last_letter_concat")
    items = []
    pool = _NAMES + _SURNAMES
    for i in range(N_ITEMS):
        words = rng.sample(pool, rng.choice([2, 2, 3, 4]))
        phrase = " ".join(words)
        question = f'Take the last letters of each words in "{phrase}" and concatenate them.'
        target = "".join(w[-1] for w in words).lower()
        items.append(Item(i, question, target, {"question": question, "answer": target}))
    return Task("last_letter_concat", items, SCORERS["word"], version=VERSION,
                description="last letters of 2-4 names, concatenated")


# Word problems, MultiArith/GSM8K style: each template draws its numbers and returns
# (question, answer); every answer is an exact integer, and one template has negative answers.
def _apples(r: random.Random) -> tuple[str, int]:
    n, a, b = r.choice(_NAMES), r.randint(2, 9), r.randint(2, 9)
    return f"{n} has {a} apples. {n} buys {b} more apples. How many apples does {n} have now?", a + b


def _buy_give(r: random.Random) -> tuple[str, int]:
    n, f = r.sample(_NAMES, 2)
    a, b = r.randint(5, 30), r.randint(2, 20)
    c = r.randint(1, a + b - 1)
    return (f"{n} had {a} stickers. {n} bought {b} more stickers and then gave {c} stickers to {f}. "
            f"How many stickers does {n} have now?", a + b - c)


def _packs(r: random.Random) -> tuple[str, int]:
    n, a, b = r.choice(_NAMES), r.randint(2, 9), r.randint(3, 12)
    c = r.randint(1, a * b - 1)
    return (f"{n} buys {a} packs of pencils with {b} pencils in each pack. {n} gives away {c} pencils. "
            f"How many pencils does {n} have left?", a * b - c)


def _bakery(r: random.Random) -> tuple[str, int]:
    a, b = r.randint(10, 60), r.randint(10, 60)
    c = r.randint(5, a + b - 1)
    return (f"A bakery baked {a} muffins in the morning and {b} muffins in the afternoon. "
            f"It sold {c} muffins. How many muffins are left?", a + b - c)


def _share(r: random.Random) -> tuple[str, int]:
    k, each, extra = r.randint(2, 8), r.randint(2, 9), r.randint(1, 5)
    return (f"A teacher shares {k * each} crayons equally among {k} children. Then each child gets "
            f"{extra} more crayons. How many crayons does each child have?", each + extra)


def _wage(r: random.Random) -> tuple[str, int]:
    n, a, b = r.choice(_NAMES), r.randint(8, 25), r.randint(2, 9)
    c = r.randint(1, a * b - 1)
    return (f"{n} earns ${a} per hour and works {b} hours. Then {n} spends ${c} on lunch. "
            f"How many dollars does {n} have left?", a * b - c)


def _twice(r: random.Random) -> tuple[str, int]:
    n, a = r.choice(_NAMES), r.randint(5, 40)
    return (f"{n} read {a} pages on Monday and twice as many pages on Tuesday. "
            f"How many pages did {n} read on the two days together?", 3 * a)


def _temperature(r: random.Random) -> tuple[str, int]:
    a = r.randint(1, 9)
    b = a + r.randint(1, 9)
    return (f"The temperature was {a} degrees at noon. By midnight it had dropped by {b} degrees. "
            f"What was the temperature at midnight, in degrees?", a - b)


_WORD_PROBLEMS: list[Callable[[random.Random], tuple[str, int]]] = [
    _apples, _buy_give, _packs, _bakery, _share, _wage, _twice, _temperature,
]


def arithmetic() -> Task:
    """Arithmetic word problems of one to three steps with exact integer answers (some
    negative: the reference's number rule cannot read a minus sign)."""
    rng = _rng("arithmetic")
    items = []
    for i in range(N_ITEMS):
        make = _WORD_PROBLEMS[i % len(_WORD_PROBLEMS)]
        question, answer = make(rng)
        items.append(Item(i, question, str(answer), {"question": question, "answer": answer,
                                                      "template": make.__name__.strip("_")}))
    return Task("arithmetic", items, SCORERS["number"], version=VERSION,
                description="arithmetic word problems, exact integers")


def _date_question(r: random.Random) -> tuple[str, date]:
    today = date(2000, 1, 1) + timedelta(days=r.randint(0, 365 * 30))
    shown = f"{today:%B} {today.day}, {today.year}"
    kind = r.choice(["tomorrow", "yesterday", "days_after", "days_before", "weeks_after"])
    if kind == "tomorrow":
        return f"Today is {shown}. What is the date tomorrow?", today + timedelta(days=1)
    if kind == "yesterday":
        return f"Today is {shown}. What was the date yesterday?", today - timedelta(days=1)
    if kind == "days_after":
        n = r.randint(2, 40)
        return f"Today is {shown}. What is the date {n} days from today?", today + timedelta(days=n)
    if kind == "days_before":
        n = r.randint(2, 40)
        return f"Today is {shown}. What was the date {n} days ago?", today - timedelta(days=n)
    n = r.randint(1, 6)
    return (f"Today is {shown}. What is the date {n} week{'s' if n > 1 else ''} from today?",
            today + timedelta(weeks=n))


def date_arithmetic() -> Task:
    """Date arithmetic (BIG-bench date-understanding style, free answer): days and weeks
    before or after a given date; answer as MM/DD/YYYY."""
    rng = _rng("date_arithmetic")
    items = []
    for i in range(N_ITEMS):
        question, answer = _date_question(rng)
        question += " Answer in the format MM/DD/YYYY."
        target = answer.strftime("%m/%d/%Y")
        items.append(Item(i, question, target, {"question": question, "answer": target}))
    return Task("date_arithmetic", items, SCORERS["date"], version=VERSION,
                description="dates before/after a given date, MM/DD/YYYY")


BUILTIN: dict[str, Callable[[], Task]] = {
    "coin_flip": coin_flip,
    "last_letter_concat": last_letter_concat,
    "arithmetic": arithmetic,
    "date_arithmetic": date_arithmetic,
}


def builtin_task(name: str, **_: Any) -> Task:
    return BUILTIN[name]()
