"""A model's session: its prompt plus the answer, kept in step with its KV cache."""

from __future__ import annotations

from fakes import make_pair

from nudge_local._session import Session


def test_session_tokenizes_answer_as_continuation():

    base, _ = make_pair({}, {})
    s = Session(base, base.tokenize("S\nQuestion: Q\n"))
    assert base.text_of(s.answer_tokens(" the answer")) == " the answer"
    assert s.answer_tokens("") == []


def test_session_keeps_the_models_own_tokens_for_its_text():

    base, _ = make_pair({}, {})
    s = Session(base, base.tokenize("S\nQuestion: Q\n"))
    s.start()
    # the model "generated" " the" as four single-character tokens; re-tokenizing the text
    # would give one " the" token and force those four to be evaluated again
    for ch in (" ", "t", "h", "e"):
        s.push(base.tokenize(ch)[0])
    before = base.evaluated_tokens
    s.sync(" the answer")
    assert base.evaluated_tokens - before == len(s.answer_tokens(" answer"))
    assert s.count(" the answer") == len(s.tokens) - len(s.prompt)


def test_common_length():
    from nudge_local._llama import _common_length

    assert _common_length([1, 2, 3], [1, 2, 3, 4]) == 3
    assert _common_length([1, 2, 9, 4], [1, 2, 3, 4]) == 2
    assert _common_length([], [1]) == 0
