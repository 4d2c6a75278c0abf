"""Integration tests on the real demo pair through llama.cpp (CPU)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.real

SIMPLE = "What is 15 plus 27?"
OPEN = "Why is the sky blue?"


def test_greedy_is_deterministic_and_independent_of_earlier_generations(demo_nudger):
    first = demo_nudger.generate(OPEN, max_tokens=48)
    demo_nudger.generate(SIMPLE, max_tokens=16)  # leaves other tokens in both KV caches
    again = demo_nudger.generate(OPEN, max_tokens=48)
    assert first.text == again.text
    assert first.spans == again.spans


def test_spans_join_to_text_and_both_models_write(demo_nudger):
    r = demo_nudger.generate(OPEN, max_tokens=48)
    assert "".join(s.text for s in r.spans) == r.text
    sources = {s.source for s in r.spans}
    assert sources == {"base", "nudging"}
    assert 0.0 < r.nudge_ratio < 1.0
    assert r.stats.output_tokens > 0 and r.stats.seconds > 0


def test_base_alone_differs_from_nudged(demo_nudger):
    nudged = demo_nudger.generate(OPEN, max_tokens=48)
    alone = demo_nudger.generate(OPEN, max_tokens=48, only="base")
    assert alone.mode == "base" and {s.source for s in alone.spans} == {"base"}
    assert alone.text != nudged.text


def test_simple_question_ends_on_nudging_models_eos(demo_nudger):
    r = demo_nudger.generate(SIMPLE, max_tokens=128)
    assert r.stop_reason == "nudging_eos"
    assert r.stats.output_tokens < 128
    assert "42" in r.text or "27" in r.text  # on topic (the tiny pair's arithmetic is shaky)


def test_base_alone_rambles_where_nudged_stops(demo_nudger):
    alone = demo_nudger.generate(SIMPLE, max_tokens=64, only="base")
    assert alone.stop_reason == "length"  # the pretrained base does not stop by itself


def test_streaming_pieces_match_result_and_carry_confidence(demo_nudger):
    stream = demo_nudger.stream(OPEN, max_tokens=32)
    pieces = list(stream)
    assert "".join(p.text for p in pieces).strip() == stream.result.text
    base_conf = [p.confidence for p in pieces if p.source == "base"]
    assert base_conf and all(0.0 < c <= 1.0 for c in base_conf)


def test_prompt_is_not_reevaluated_per_token(demo_nudger):
    r = demo_nudger.generate(OPEN, max_tokens=48)
    prompt_tokens = len(demo_nudger.base.tokenize(
        "You are a helpful assistant.\nQuestion: Why is the sky blue?\n"))
    # the base evaluates (at most) its prompt once plus about one token per answer token;
    # re-sending prompts per chunk, as the reference does, would be many times more
    assert r.stats.base_evaluated_tokens <= prompt_tokens + r.stats.output_tokens + r.stats.rounds + 2


def test_multi_turn_chat_and_sampling_with_seed(demo_nudger):
    messages = [
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "The capital of France is Paris."},
        {"role": "user", "content": "And of Italy?"},
    ]
    a = demo_nudger.generate(messages=messages, max_tokens=24, temperature=0.8, seed=3)
    b = demo_nudger.generate(messages=messages, max_tokens=24, temperature=0.8, seed=3)
    assert a.text == b.text and a.text


def test_multibyte_text_survives(demo_nudger):
    r = demo_nudger.generate("Write the word café and an emoji.", max_tokens=32)
    assert "\ufffd" not in r.text


def test_backend_reuses_text_it_stepped_back_from(demo_nudger):
    """A chunk the repetition guards drop stays in the KV cache with its logits; when the base
    writes the same tokens again (a looping base does, right after the drop) nothing is
    evaluated again, and the logits are the ones computed the first time."""
    import numpy as np

    b = demo_nudger.base
    head = b.tokenize("Question: Why is the sky blue?\nThe sky is", add_bos=b.bos_id is not None)
    tail = b.tokenize(" blue because of Rayleigh scattering")
    b.begin(head)
    n = len(head)
    rows = b.evaluate(head + tail, range(n - 1, n + len(tail)))
    before = b.counters.evaluated_tokens
    np.testing.assert_array_equal(b.evaluate(head)[0], rows[0])  # step back: free
    for i, token in enumerate(tail[:3]):  # the same tokens again: free, same logits
        np.testing.assert_array_equal(b.push(token), rows[i + 1])
    assert b.counters.evaluated_tokens == before
    other = b.tokenize(" red")[0]
    assert other != tail[3]
    b.push(other)  # something else: evaluated, and the old tail is gone
    assert b.counters.evaluated_tokens == before + 1
    b.evaluate(head + tail[:4])
    assert b.counters.evaluated_tokens == before + 2


def test_backend_returns_more_rows_than_it_keeps(demo_nudger):
    """Word boundaries of a long draft (exact mode) can ask for more logits rows in one batch
    than the backend keeps for later, plus one it had kept from before."""
    b = demo_nudger.base
    head = b.tokenize("Question: Name some colors.\nColors:", add_bos=b.bos_id is not None)
    more = b.tokenize(" red, green, blue, yellow, orange, purple, pink, brown, black, white")
    b.begin(head)
    n = len(head)
    assert len(more) > b._max_rows
    rows = b.evaluate(head + more, [n - 1, *range(n, n + len(more))])
    assert len(rows) == len(more) + 1 and all(r.shape == (b.n_vocab,) for r in rows)
    assert b.evaluate(head)[0].shape == (b.n_vocab,)


def test_backend_starts_over_when_the_cache_cannot_drop_a_tail(demo_nudger, monkeypatch):
    """Recurrent models' caches cannot drop a tail; the backend then clears the cache and
    evaluates the whole context again instead of writing at a wrong position."""
    import numpy as np

    b = demo_nudger.base
    head = b.tokenize("Question: Why is the sky blue?\nThe sky is", add_bos=b.bos_id is not None)
    tail = b.tokenize(" blue because")
    other = b.tokenize(" red")
    b.begin(head)
    expected = b.evaluate(head + other)[0].copy()  # what head + " red" gives

    class NoTailRemoval:
        def __init__(self, lib):
            self._real = lib

        def __getattr__(self, name):
            return getattr(self._real, name)

        def llama_memory_seq_rm(self, *args):
            return False

    b.evaluate(head + tail)
    monkeypatch.setattr(b, "_lib", NoTailRemoval(b._lib))
    before = b.counters.evaluated_tokens
    got = b.evaluate(head + other)[0]  # must step back over `tail`: the cache is cleared
    assert b.counters.evaluated_tokens - before == len(head) + len(other)
    assert int(np.argmax(got)) == int(np.argmax(expected))
    np.testing.assert_allclose(got, expected, atol=1.5)  # batch splits differ, values agree
    b.evaluate(head + other + tail[:1])  # one more token, then step back (free: row kept)
    b.evaluate(head + other)
    before = b.counters.evaluated_tokens
    b.push(tail[1])  # something else after the step back: the cache is cleared again
    assert b.counters.evaluated_tokens - before == len(head) + len(other) + 1
    assert b.held == head + other + [tail[1]]
