"""The nudging API on the real demo pair (Gemma-3-270M + SmolLM2-135M-Instruct) through llama.cpp."""

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
