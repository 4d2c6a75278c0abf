"""Stop strings and the new-turn guard: the answer ends right before them, and nothing shown is
ever taken back."""

from __future__ import annotations

import pytest
from fakes import QUESTION, SYSTEM, chain, make_nudger

from nudge_local._stops import StopFilter, StopString
from nudge_local._types import Piece


def _feed(stops, texts):
    f = StopFilter([StopString(s, "stop") for s in stops])
    shown = []
    for t in texts:
        shown += [p.text for p in f.feed(Piece(t, "base", None))]
        if f.reason is not None:
            break
    else:
        shown += [p.text for p in f.flush()]
    return "".join(shown), f.reason, shown


@pytest.mark.parametrize("texts", [["Hello wor", "ld. END more"], ["Hello world. E", "N", "D more"],
                                   ["Hello world. END"], ["H", "e", "l", "l", "o world. ", "END", " x"]])
def test_the_answer_ends_right_before_a_stop_string_however_it_is_split(texts):
    text, reason, _ = _feed(["END"], texts)
    assert text == "Hello world. " and reason == "stop"


def test_text_that_could_start_a_stop_string_is_held_then_released():
    text, reason, shown = _feed(["END"], ["Hello E", "N", "ough"])
    assert text == "Hello ENough" and reason is None
    assert shown[0] == "Hello "  # "E" waited until it was clear it does not start END


def test_the_earliest_of_several_stop_strings_wins():
    text, _, _ = _feed(["world", "lo"], ["Hello world"])
    assert text == "Hel"


def test_no_stop_strings_pass_everything_at_once():
    text, reason, shown = _feed([], ["a", "b"])
    assert (text, reason, shown) == ("ab", None, ["a", "b"])


def test_pieces_keep_their_sources_when_cut():
    f = StopFilter([StopString("STOP", "stop")])
    out = list(f.feed(Piece("one ST", "nudging", 0.3))) + list(f.feed(Piece("OP two", "base", 0.9)))
    assert [(p.text, p.source) for p in out] == [("one ", "nudging")]


def _looping_pair():
    """The base continues its transcript: after answering it writes the next question."""
    nudging = chain("", "Sure", ",", " the", *[" A"] * 13)  # 16 tokens: exact mode drafts them all
    base = chain("Sure,", *[{w: 0.9} for w in [" one", " two", "\n", "Question", ":", " Q"]])
    nudging.update(chain("Sure, one two\nQuestion: Q", "<eos>"))
    return make_nudger(base, nudging)


def test_the_base_starting_the_next_question_ends_the_answer():
    n = _looping_pair()
    s = n.stream(messages=[{"role": "user", "content": QUESTION}], system=SYSTEM, max_tokens=64)
    shown = "".join(p.text for p in s)
    assert s.result.text == "Sure, one two" and s.result.stop_reason == "new_turn"
    assert "Question" not in shown


def test_a_single_prompt_and_an_explicit_false_keep_the_reference_behaviour():
    chat = [{"role": "user", "content": QUESTION}]
    for kwargs in ({"prompt": QUESTION}, {"messages": chat, "stop_at_new_turn": False}):
        s = _looping_pair().stream(system=SYSTEM, max_tokens=64, **kwargs)
        list(s)
        assert s.result.text == "Sure, one two\nQuestion: Q" and s.result.stop_reason == "nudging_eos"


def test_caller_stop_strings_end_a_nudged_answer_and_count_its_tokens():
    n = _looping_pair()
    s = n.stream(QUESTION, system=SYSTEM, max_tokens=64, stop=[" two"])
    list(s)
    assert s.result.text == "Sure, one" and s.result.stop_reason == "stop"
    assert s.result.stats.output_tokens == len(n.base.tokenize("Sure, one"))
