"""The rule over a completions API gives the local engine's exact-mode answers (issue 10, item 2).

Three ways to run one scripted pair must agree: the local engine's exact mode over two
FakeBackends; the reference-order rule (``ReferenceRule``) over the same backends behind
``LocalTextModel``; and the same rule with the base model (or both models) behind a scripted
OpenAI-compatible HTTP server on 127.0.0.1, in the response shapes of vLLM, llama-server,
llama-cpp-python and a plain OpenAI server. Where the authors' reference and exact mode part
ways (``cases.DIFFERENT``), the HTTP engines give the reference's answer and the comparison
with exact mode is an expected failure until exact mode is fixed.
"""

from __future__ import annotations

import pytest
from cases import CASES, DIFFERENT
from remote_support import SHAPES, exact_local, reference_adapter, reference_http, same, show


@pytest.mark.parametrize("name", sorted(CASES))
def test_adapter_gives_exact_mode_answer(name):
    base, nudging, opts = CASES[name]
    exact = exact_local(base, nudging, opts)
    ref = reference_adapter(base, nudging, opts)
    assert same(ref, exact), f"\nexact: {show(exact)}\nref:   {show(ref)}"


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_remote_base_gives_the_same_answer(name, shape):
    base, nudging, opts = CASES[name]
    local = reference_adapter(base, nudging, opts)
    remote = reference_http(base, nudging, opts, shape)
    assert same(remote, local), f"\nlocal:  {show(local)}\nremote: {show(remote)}"
    assert remote.stats.rounds == local.stats.rounds
    assert remote.stats.nudges == local.stats.nudges


@pytest.mark.parametrize("shape", ["llama-server", "vllm"])
@pytest.mark.parametrize("name", ["takeover_then_base", "multibyte_in_draft", "stuck_same_nudge",
                                  "eos_after_takeover_word", "draft_starts_with_newline"])
def test_both_models_remote(name, shape):
    base, nudging, opts = CASES[name]
    local = exact_local(base, nudging, opts)
    remote = reference_http(base, nudging, opts, shape, remote_nudging=True)
    assert same(remote, local), f"\nlocal:  {show(local)}\nremote: {show(remote)}"


def test_expected_answers_of_some_cases():
    """Spot checks by hand, so that agreeing engines cannot all be wrong the same way."""
    expect = {
        "eos_after_takeover_word": ("Sure, the answer", "nudging_eos", [("Sure, the answer", "nudging")]),
        "takeover_then_base": ("Sure, the answer is 42.", "nudging_eos",
                               [("Sure,", "nudging"), (" the answer is 42.", "base")]),
        "no_takeover_keeps_all_but_last": ("Sure, the answer is x y z w v u t s A B C D", "nudging_eos", None),
        "multibyte_base_char_not_cut": ("Sure, theé is", "nudging_eos", [("Sure,", "nudging"), (" theé is", "base")]),
        "guard_chunk_copies_answer": ("Sure, x y z w v u t s x and then", "nudging_eos",
                                      [("Sure, x y z w v u t s", "nudging"), (" x", "base"), (" and then", "nudging")]),
        "stuck_same_nudge": (None, "stuck", None),
        "round_limit": (None, "rounds", None),
    }
    for name, (text, stop, spans) in expect.items():
        r = reference_http(*CASES[name], "llama-server")
        assert r.stop_reason == stop, name
        if text is not None:
            assert r.text == text, name
        if spans is not None:
            assert [(s.text, s.source) for s in r.spans] == spans, name


@pytest.mark.parametrize("name", sorted(DIFFERENT))
def test_reference_answer_where_exact_mode_differs(name):
    case, reference_text, _exact_text, _why = DIFFERENT[name]
    assert reference_adapter(*case).text == reference_text
    assert reference_http(*case, "vllm").text == reference_text


@pytest.mark.parametrize("name", sorted(DIFFERENT))
def test_exact_mode_matches_the_reference_there(name):
    """Where exact mode used to part from the reference (guard 1 on the whole chunk, 15-token
    first chunk, length checked between chunks): it gives the reference's answer now."""
    case, reference_text, _old_exact_text, _why = DIFFERENT[name]
    assert same(exact_local(*case), reference_adapter(*case))
    assert exact_local(*case).text == reference_text


@pytest.mark.parametrize("name", sorted(CASES))
def test_one_token_checks_give_the_same_answers(name, monkeypatch):
    """Word checks that ask for one token (a whole chunk only on a takeover) change nothing."""
    import nudge_local._reference as reference

    base, nudging, opts = CASES[name]
    monkeypatch.setattr(reference, "DEFAULT_CHECK_TOKENS", None)  # whole chunks, as the reference
    whole = reference_http(base, nudging, opts, "llama-server")
    monkeypatch.setattr(reference, "DEFAULT_CHECK_TOKENS", 1)
    short = reference_http(base, nudging, opts, "llama-server")
    assert same(short, whole), f"\n16: {show(whole)}\n1:  {show(short)}"
