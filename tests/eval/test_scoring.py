"""Golden strings for every scorer family: what the rules read, and what they refuse to."""

from __future__ import annotations

import pytest

from nudge_local.eval import SCORERS, Item, score
from nudge_local.eval._scoring import gold_number, numbers_in


def item(target: str, labels: tuple[str, ...] = (), choices: tuple[str, ...] = ()) -> Item:
    return Item(0, "q", target, labels=labels, choices=choices)


@pytest.mark.parametrize(("text", "numbers"), [
    ("It costs 1,234 dollars", ["1234"]),
    ("2,500,000 people", ["2500000"]),
    ("The answer is -3.", ["-3"]),
    ("the temperature is \u22125 degrees", ["-5"]),          # Unicode minus
    ("5-3 = 2", ["5", "3", "2"]),                           # a binary minus is not a sign
    ("x = (-7)", ["-7"]),
    ("She pays $3.50 and $2.00", ["3.5", "2"]),
    ("It is 42.", ["42"]),                                   # sentence full stop, not a decimal
    ("0.25 of 8", ["0.25", "8"]),
    ("no digits here", []),
])
def test_numbers_are_read_with_commas_signs_and_decimals(text, numbers):
    assert numbers_in(text) == numbers


@pytest.mark.parametrize(("gold", "value"), [
    ("Natalia sold 48/2 = 24 clips in May.\n#### 72", "72"),
    ("#### 1,080", "1080"),
    ("#### -4", "-4"),
    ("12.0", "12"),
    ("(5 + 3) = 8.0", "8"),
])
def test_gold_numbers(gold, value):
    assert gold_number(gold) == value


@pytest.mark.parametrize(("output", "target", "answer", "correct"), [
    ("First 3 + 5 = 8, then 8 * 2 = 16. The answer is 16.", "16", "16", True),
    ("He has 1,200 stickers.", "1200", "1200", True),
    ("So the temperature is -4 degrees.", "-4", "-4", True),
    ("So the temperature is 4 degrees.", "-4", "4", False),   # the reference's rule would call this right
    ("She spends $2.50.", "2.5", "2.5", True),
    ("Reasoning...\n#### 42", "42", "42", True),
    ("It was 42 at first, and later 40.", "42", "40", False),  # the last of several numbers counts
    ("I cannot work this out.", "7", None, False),
])
def test_number_scorer(output, target, answer, correct):
    got = score(SCORERS["number"], output, item(target))
    assert (got.answer, got.correct) == (answer, correct)


ABCD = ("A", "B", "C", "D")
TEXTS = ("a river", "the moon", "a rock", "fire")


@pytest.mark.parametrize(("output", "answer"), [
    ("The answer is (B).", "B"),
    ("Answer: B", "B"),
    ("Answer: B, because A is wrong", "B"),                    # the explicit answer, not a later label
    ("ANSWER IS C and not D", "C"),
    ("answer: C. a rock", "C"),
    ("Let me think. (A) is wrong, so (D) it is.", "D"),       # the last parenthesized label
    ("The correct answer is option C.", "C"),
    ("B. the moon\nBecause it reflects light.", "B"),          # one line starting with a label
    ("It must be the moon, which reflects light.", "B"),       # the only choice text quoted
    ("After thinking about it: D", "D"),                       # a label ending the output
    ("A bird flew over the hill and sang.", None),              # an article "A" is not a choice
    ("I am not sure.", None),
    ("A. a river\nB. the moon\nC. a rock\nD. fire", None),      # just repeating the options
])
def test_choice_scorer_letters(output, answer):
    got = SCORERS["choice"].extract(output, item("B", ABCD, TEXTS))
    assert got == answer


@pytest.mark.parametrize(("output", "answer"), [
    ("The answer is 3.", "3"),
    ("Answer: (2)", "2"),
    ("1. Plants need light.\n2. Leaves collect it.\nSo the answer is 4", "4"),  # numbered steps ignored
    ("1. Plants need light.\n2. Leaves collect it.", None),
])
def test_choice_scorer_arc_numeric_keys(output, answer):
    assert SCORERS["choice"].extract(output, item("4", ("1", "2", "3", "4"), TEXTS)) == answer


@pytest.mark.parametrize(("output", "answer"), [
    ("Yes, the coin is still heads up.", "yes"),
    ("No. Two flips bring it back... wait.", "no"),
    ("**Yes**", "yes"),
    ("The answer is no.", "no"),
    ("Answer: True", "yes"),
    ("answer: false", "no"),
    ("Let me think step by step. There is no reason to doubt it. So yes, it is.", None),
    ("Let me think. Bats are mammals.\nYes, they can fly.", "yes"),
    ("Let me think. There is no doubt.", None),
    ("I do not know.", None),
])
def test_yes_no_scorer(output, answer):
    assert SCORERS["yesno"].extract(output, item("yes")) == answer


@pytest.mark.parametrize(("output", "answer"), [
    ("Ka flips it, so it is tails. Sam flips it back, so the coin is still heads up.", "yes"),
    ("After one flip the coin is tails up.", "no"),
    ("The coin is no longer heads up.", "no"),
    ("Nobody touched anything.", None),
])
def test_coin_scorer_reads_heads_and_tails(output, answer):
    assert SCORERS["coin"].extract(output, item("yes")) == answer


@pytest.mark.parametrize(("output", "answer", "correct"), [
    ('The last letter of "Elon" is "n" and of "Musk" is "k". The answer is "nk".', "nk", True),
    ("Answer: NK", "nk", True),
    ('The last letters are "n" and "k". Together: "nk"', "nk", True),
    ("so it is nk", "nk", True),
    ("The answer is ek.", "ek", False),
    ("", None, False),
])
def test_word_scorer(output, answer, correct):
    got = score(SCORERS["word"], output, item("nk"))
    assert (got.answer, got.correct) == (answer, correct)


@pytest.mark.parametrize(("output", "answer"), [
    ("10 days after 03/15/2021 is 03/25/2021.", "03/25/2021"),
    ("The date is March 25, 2021.", "03/25/2021"),
    ("It is 25 March 2021", "03/25/2021"),
    ("That gives 2021-03-25.", "03/25/2021"),
    ("Tomorrow is the 5th of February, 1999", "02/05/1999"),
    ("13/45/2021 is not a date, nor is this", None),
    ("in about ten days", None),
])
def test_date_scorer(output, answer):
    assert SCORERS["date"].extract(output, item("03/25/2021")) == answer
