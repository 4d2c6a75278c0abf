"""Every branch of the nudging rule, on scripted fake models (no model files).

Most scripts have short drafts, so they run the lazy mode (``exact=False``) explicitly; the
tests parametrized on ``exact`` cover both modes."""

from __future__ import annotations

import pytest
from fakes import QUESTION, SYSTEM, chain, make_nudger

from nudge_local import RuleConfig

UNSURE = 0.3  # below the default gamma 0.4


def run(nudger, **kw):
    kw.setdefault("system", SYSTEM)
    kw.setdefault("max_tokens", 64)
    # These scripts have short drafts: they exercise the lazy mode's branches unless a test
    # asks for exact mode (where a draft ending in EOS within 16 tokens is kept whole).
    kw.setdefault("exact", False)
    return nudger.generate(QUESTION, **kw)


def test_first_word_always_kept_then_base_takes_over_by_confidence():
    nudging = {**chain("", "Sure", ",", " the", " answer")}
    # the base is sure after "Sure," and writes " The answer is 42." itself
    base = {**chain("Sure,", {" The": 0.9}, {" answer": 0.9}, {" is": 0.9}, {" 42": 0.9}, {".": 0.9})}
    nudging.update(chain("Sure, The answer is 42.", "<eos>"))
    r = run(make_nudger(base, nudging))
    assert r.text == "Sure, The answer is 42."
    assert [(s.text, s.source) for s in r.spans] == [("Sure,", "nudging"), (" The answer is 42.", "base")]
    assert r.stop_reason == "nudging_eos"
    assert "".join(s.text for s in r.spans) == r.text


def test_takeover_by_agreement_below_gamma():
    nudging = chain("", "Sure", ",", " the", " answer", " is")
    # unsure (0.3) but its top token " the" is how the draft's next word starts
    base = {**chain("Sure,", {" the": UNSURE}, {" answer": 0.9}, {" is": 0.9}, {" 42": 0.9})}
    nudging.update(chain("Sure, the answer is 42", "<eos>"))
    r = run(make_nudger(base, nudging))
    assert r.spans[0].text == "Sure," and r.spans[0].source == "nudging"
    assert r.spans[1].text == " the answer is 42" and r.spans[1].source == "base"


def test_no_agreement_and_unsure_means_no_takeover_at_that_word():
    nudging = chain("", "Sure", ",", " the", " answer", " is", " 42")
    base = {
        "Sure,": {" A": UNSURE},  # disagrees, unsure: keep going
        "Sure, the": {" answer": 0.95},  # confident: takes over before " answer"
        **chain("Sure, the answer", {" is": 0.9}, {" 42": 0.9}),
    }
    nudging.update(chain("Sure, the answer is 42", "<eos>"))
    r = run(make_nudger(base, nudging))
    assert [(s.text, s.source) for s in r.spans] == [("Sure, the", "nudging"), (" answer is 42", "base")]


def test_no_takeover_in_whole_draft_keeps_all_but_last_word():
    draft = [" A", " B", " C", " D", " E", " F", " G", " H"] * 2  # 16 tokens, 16 words
    nudging = chain("", *draft)
    base = {}  # default below: unsure and never agreeing
    kept = "".join(draft[:-1])
    nudging.update(chain(kept, "<eos>"))
    r = run(make_nudger(base, nudging, base_default={" x": UNSURE}))
    assert r.text == kept.strip()
    assert all(s.source == "nudging" for s in r.spans)
    assert r.stats.nudges == 1


def test_one_word_draft_is_kept_whole():
    digits = ["1", "2", "3"] * 5 + ["1"]  # 16 tokens, no space: one word
    nudging = chain("", *digits)
    word = "".join(digits)
    nudging.update(chain(word, "<eos>"))
    r = run(make_nudger({}, nudging, base_default={" x": UNSURE}))
    assert r.text == word
    assert r.stop_reason == "nudging_eos"


def test_nudging_eos_appends_whole_draft_and_stops():
    nudging = chain("", " Hello", " world", ".", "<eos>")
    # a confident base would take over after " Hello" - but the draft ended on EOS first
    r = run(make_nudger({}, nudging, base_default={" x": 0.99}), exact=True)
    assert r.text == "Hello world."
    assert r.stop_reason == "nudging_eos"
    assert r.nudge_ratio == 1.0


def test_base_eos_ends_base_turn_and_nudging_model_decides():
    nudging = chain("", "Sure", ",", " the")
    base = {**chain("Sure,", {" The": 0.9}, {" answer": 0.9}), "Sure, The answer": {"<eos>": 0.9}}
    nudging.update(chain("Sure, The answer", " is", " 42", "<eos>"))
    r = run(make_nudger(base, nudging))
    assert r.text == "Sure, The answer is 42"
    assert [s.source for s in r.spans] == ["nudging", "base", "nudging"]
    assert r.stop_reason == "nudging_eos"


def test_base_eos_never_takes_over():
    nudging = chain("", "Sure", ",", " the", " answer", "<eos>")
    base = {"Sure,": {"<eos>": 0.99}}
    r = run(make_nudger(base, nudging, base_default={" x": UNSURE}))
    assert r.text == "Sure, the answer"
    assert all(s.source == "nudging" for s in r.spans)


def test_stuck_when_same_nudge_is_kept_round_after_round():
    # the nudging model always drafts " ha ha"; the base is never sure: " ha" is kept each round
    def nudging(answer):
        if answer is None:
            return "<eos>"
        return " ha"

    s = make_nudger({}, nudging, base_default={" x": UNSURE}).stream(QUESTION, system=SYSTEM, max_tokens=64,
                                                                    exact=False)
    streamed = "".join(p.text for p in s)
    r = s.result
    assert r.stop_reason == "stuck"
    # each 16-token draft " ha"*16 keeps all but its last word; kept in round 1, the same
    # again in rounds 2 and 3, and round 4's third repeat stops without being appended
    assert streamed == " ha" * 45
    assert r.stats.rounds == 4 and r.stats.nudges == 3
    # the final clean-up strips the answer and drops the 30+ character suffixes that repeat
    assert r.text == "ha" + " ha" * 11


def test_length_stop_counts_base_tokens():
    nudging = chain("", "Sure", ",", " the")
    words = [" one", " two", " three", " four", " five", " six", " seven", " eight", " nine", " ten"]
    base = chain("Sure,", *[{w: 0.9} for w in words])
    r = run(make_nudger(base, nudging), max_tokens=6)
    assert r.stop_reason == "length"
    assert r.stats.output_tokens == 6
    assert r.text == "Sure, one two three four"


def test_rounds_limit():
    # every round: the base is unsure everywhere, the nudge draft always grows the answer
    def nudging(answer):
        return "<eos>" if answer is None else {" x": 1.0} if answer.endswith("y") else {" y": 1.0}

    n = make_nudger({}, nudging, base_default={" z": UNSURE})
    s = n.stream(QUESTION, system=SYSTEM, max_tokens=1000, rule=RuleConfig(max_rounds=5, draft_tokens=4), exact=False)
    list(s)
    assert s.result.stop_reason == "rounds"
    assert s.result.stats.rounds == 5


@pytest.mark.parametrize("exact, discarded", [(True, 8), (False, 5)])
def test_repetition_guard_drops_chunk_already_in_answer(exact, discarded):
    sentence = [" one", " two", " three", " four", " five", " six", " seven", " eight"]
    # a 16-token draft without EOS (exact mode drafts all 16 tokens)
    nudging = chain("", "Sure", ",", " the", *[" A"] * 13)
    first = "Sure," + "".join(sentence)
    # the base writes the 8-word sentence, then starts it again: the 2nd copy is a >5-word
    # chunk already in the answer and must be dropped
    base = chain("Sure,", *[{w: 0.9} for w in sentence * 3])
    n = make_nudger(base, nudging)
    s = n.stream(QUESTION, system=SYSTEM, max_tokens=64, exact=exact, rule=RuleConfig(chunk_tokens=8))
    pieces = list(s)
    # as in the reference, the first chunk holds the takeover token and 7 more:
    # turn = " one" (the takeover token) + " two ... eight" (7 tokens, new text) |
    # " one ... eight" again: more than 5 words already in the answer (and in this turn) ->
    # dropped; exact mode drops it at the chunk's end (8 tokens), the lazy mode as soon as 5
    # words are copied
    kept = first
    assert s.result.text == kept
    assert "".join(p.text for p in pieces) == kept  # the dropped chunk was never streamed
    assert s.result.stats.base_discarded_tokens == discarded


def test_nudging_model_never_follows_the_token_that_dooms_a_held_chunk():
    """The nudging model follows held text as the base writes it, but not the token that makes
    the guard fire (the next round would wait for it, then drop it)."""
    sentence = [" one", " two", " three", " four", " five", " six", " seven", " eight"]
    nudging = chain("", "Sure", ",", " the", *[" A"] * 13)
    base = chain("Sure,", *[{w: 0.9} for w in sentence * 3])
    seen: list = []
    n = make_nudger(base, nudging, nudging_log=seen)
    s = n.stream(QUESTION, system=SYSTEM, max_tokens=64, overlap=True, rule=RuleConfig(chunk_tokens=8), exact=False)
    list(s)
    kept = "Sure," + "".join(sentence)
    assert s.result.text == kept and s.result.stats.base_discarded_tokens == 5
    assert not any(t and t.startswith(kept + " one two three four five") for t in seen)


def test_repetition_guard_drops_chunk_repeating_the_current_turn():
    nudging = chain("", "Sure", ",", " the")
    base = chain("Sure,", *[{w: 0.9} for w in [" A", " B", " A", " B", " A", " B"]])
    nudging.update(chain("Sure, A B A", "<eos>"))
    n = make_nudger(base, nudging)
    s = n.stream(QUESTION, system=SYSTEM, max_tokens=64, rule=RuleConfig(chunk_tokens=2), exact=False)
    list(s)
    # turn: " A" (takeover token) + " B" (the first chunk: the takeover token and 1 more, as
    # in the reference) | " A B" already in the turn -> dropped
    assert s.result.text == "Sure, A B"


def test_multibyte_character_split_across_tokens_is_never_broken():
    nudging = chain("", "Sure", ",", " the")
    # "é" = C3 A9 arrives as two byte tokens; the base is unsure at the 2nd byte but must finish
    base = {
        **chain("Sure,", {" cafe": 0.9}, {"<0xCC>": 0.9}),
    }
    base["Sure, cafe\ufffd"] = {"<0x81>": 0.1}  # the script sees the half character as U+FFFD
    nudging.update({"Sure, cafe\u0301": "<eos>"})
    n = make_nudger(base, nudging, base_default={" x": UNSURE})
    pieces = list(s := n.stream(QUESTION, system=SYSTEM, max_tokens=64, exact=False))
    assert all("\ufffd" not in p.text for p in pieces)
    assert s.result.text == "Sure, cafe\u0301"


def test_lazy_and_full_drafts_agree_without_eos_and_lazy_drafts_less():
    nudging = chain("", "Sure", ",", " the", " answer", " is", " 42", ".", " A", " B")
    base = {**chain("Sure,", {" the": 0.9}, {" answer": 0.9}, {" is": 0.9}, {" 42": 0.9})}
    nudging.update(chain("Sure, the answer is 42", "<eos>"))
    lazy = run(make_nudger(base, nudging))
    full = run(make_nudger(base, nudging), exact=True)
    assert lazy.text == full.text == "Sure, the answer is 42"
    assert lazy.stats.nudging_generated_tokens < full.stats.nudging_generated_tokens


def test_prompt_is_evaluated_once_and_answer_incrementally():
    nudging = chain("", "Sure", ",", " the")
    words = [" one", " two", " three", " four", " five", " six", " seven", " eight"]
    base = chain("Sure,", *[{w: 0.9} for w in words], {" nine": UNSURE})
    nudging.update(chain("Sure," + "".join(words), "<eos>"))
    n = make_nudger(base, nudging)
    r = run(n)
    prompt_len = len(n.base.tokenize(f"{SYSTEM}\nQuestion: {QUESTION}\n"))
    # prompt once + the answer's tokens (+ at most one token re-read per round)
    assert n.base.evaluated_tokens <= prompt_len + r.stats.output_tokens + r.stats.rounds
    assert r.stats.base_generated_tokens == len(words)


def test_confidence_is_reported_for_base_pieces():
    nudging = chain("", "Sure", ",", " the")
    base = chain("Sure,", {" The": 0.9}, {" answer": 0.8})
    r_pieces = list(make_nudger(base, nudging, base_default={" x": UNSURE}).stream(
        QUESTION, system=SYSTEM, max_tokens=64, exact=False))
    base_pieces = [p for p in r_pieces if p.source == "base"]
    assert [round(p.confidence, 2) for p in base_pieces] == [0.9, 0.8]


def test_only_base_and_only_nudging():
    nudging = chain("", "Sure", ",", " the", "<eos>")
    base = chain("", {" Hello": 0.9}, {" world": 0.9}, {"<eos>": 0.9})
    n = make_nudger(base, nudging)
    b = run(n, only="base")
    assert b.text == " Hello world" and b.mode == "base" and b.stop_reason == "eos"
    assert all(s.source == "base" for s in b.spans)
    g = run(n, only="nudging")
    assert g.text == "Sure, the" and g.mode == "nudging" and g.stop_reason == "eos"
    assert g.nudge_ratio == 1.0


def test_cancel_stops_promptly_and_models_stay_usable():
    nudging = chain("", "Sure", ",", " the")
    words = [" one", " two", " three", " four", " five", " six"]
    base = chain("Sure,", *[{w: 0.9} for w in words])
    n = make_nudger(base, nudging)
    s = n.stream(QUESTION, system=SYSTEM, max_tokens=64, exact=False)
    for piece in s:
        if piece.source == "base":
            s.cancel()
    assert s.result.stop_reason == "cancelled"
    assert s.result.text.startswith("Sure, one")
    assert s.result.text != "Sure," + "".join(words)
    again = run(n)
    assert again.text == "Sure," + "".join(words)


def test_sampling_is_reproducible_with_a_seed():
    nudging = chain("", "Sure", ",", " the")
    base = {"Sure,": {" one": 0.5, " two": 0.5}}
    results = set()
    for _ in range(2):
        results.add(run(make_nudger(base, nudging, base_default={"<eos>": 0.9}),
                        temperature=1.0, seed=7).text)
    assert len(results) == 1


def test_context_full_stops_with_context():
    nudging = chain("", "Sure", ",", " the")
    base = chain("Sure,", *[{w: 0.9} for w in [" one", " two", " three", " four"] * 5])
    n = make_nudger(base, nudging, n_ctx=16)
    r = run(n)
    assert r.stop_reason == "context"


@pytest.mark.parametrize("lazy", [True, False])
def test_overlap_on_a_second_thread_gives_the_same_answers(lazy):
    """The nudging model following the base on a worker thread changes timing only."""
    nudging = chain("", "Sure", ",", " the", " answer", " is", " 42")
    base = {
        "Sure,": {" A": UNSURE},
        "Sure, the": {" answer": 0.95},
        **chain("Sure, the answer", {" is": 0.9}, {" 42": 0.9}, {".": UNSURE}),
    }
    nudging.update(chain("Sure, the answer is 42", " Hello", ".", "<eos>"))
    results = [run(make_nudger(base, nudging), overlap=o, exact=not lazy) for o in (False, True, True)]
    assert results[0].text == results[1].text == results[2].text == "Sure, the answer is 42 Hello."
    assert results[0].spans == results[1].spans
    # full drafts: the draft reaches the nudging model's EOS within 16 tokens, so it is kept whole
    expected = ["nudging", "base", "nudging"] if lazy else ["nudging"]
    assert [s.source for s in results[1].spans] == expected


@pytest.mark.parametrize("exact", [False, True])
def test_the_nudging_model_evaluates_the_same_text_whatever_the_plan(exact):
    """With overlap the nudging model follows the base's text on a worker thread, without it
    inline; both make the same evaluations (whole 16-token blocks, then the rest at the next
    nudge), so every logit - and every answer - is the same under every thread plan."""
    words = [" one", " two", " three", " four", " five", " six", " seven", " eight", " nine", " ten",
             " A", " B", " C", " D", " E", " F", " G", " H", " x", " y", " z", " w", " v", " u"]
    nudging = chain("", "Sure", ",", " the", *[" A"] * 13)  # 16 tokens, no EOS (exact mode drafts all)
    base = chain("Sure,", *[{w: 0.9} for w in words])
    nudging.update(chain("Sure," + "".join(words), "<eos>"))
    logs: dict[bool, list] = {}
    calls = {}
    for overlap in (False, True):
        seen: list = []
        n = make_nudger(base, nudging, nudging_log=seen)
        r = run(n, overlap=overlap, exact=exact)
        assert r.text == "Sure," + "".join(words)
        logs[overlap] = seen
        calls[overlap] = n.nudging.evaluate_calls
    assert logs[False] == logs[True]
    assert calls[False] == calls[True] > 2  # blocks followed during the base's turn, then the rest


@pytest.mark.parametrize("eos", [True, False])
def test_exact_mode_lets_the_base_start_while_the_draft_is_finished_and_undoes_it_on_eos(eos):
    """With overlap, exact mode's base turn runs while the nudging model completes its 16-token
    draft; an EOS in the draft's rest ends the answer with the whole draft, as the reference
    does, and nothing the base wrote meanwhile is shown."""
    import time

    tail = [" A", " B", "<eos>"] if eos else [" A"] * 13
    nudging = chain("", "Sure", ",", " the", *tail)
    base = chain("Sure,", *[{w: 0.9} for w in (" one", " two", " three", " four")])
    results = {}
    for overlap in (False, True):
        n = make_nudger(base, nudging)
        script = n.nudging.script

        def slow(text, script=script):
            time.sleep(0.02)  # the draft's rest takes longer than the base's first tokens
            return script(text)

        n.nudging.script = slow
        s = n.stream(QUESTION, system=SYSTEM, max_tokens=64, exact=True, overlap=overlap)
        pieces = list(s)
        # the same answer and spans (the pieces may be cut differently: the kept words come first)
        results[overlap] = (s.result.text, s.result.spans, s.result.stop_reason)
        assert "".join(p.text for p in pieces).strip() == s.result.text
        if overlap and eos:
            assert s.result.stats.base_discarded_tokens > 0  # the base did start, then was undone
    assert results[False] == results[True]
    if eos:
        assert results[True][0] == "Sure, the A B" and results[True][2] == "nudging_eos"
        assert [span.source for span in results[True][1]] == ["nudging"]
    else:
        assert results[True][0].startswith("Sure, one two three four")
