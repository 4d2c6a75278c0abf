"""LlamaCppBackend on the real Gemma-3-270M base: KV reuse, logits rows, cache fallbacks."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.real

SIMPLE = "What is 15 plus 27?"
OPEN = "Why is the sky blue?"


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


def test_the_llama_cpp_python_internals_we_use_exist():
    """_llama.py is the one module on llama-cpp-python's private API (pyproject pins the 0.3
    series it was tested on); this fails first when an upgrade moves it."""
    import llama_cpp
    from llama_cpp import _internals

    assert callable(_internals.LlamaBatch)
    for name in ("llama_decode", "llama_get_logits_ith", "llama_memory_seq_rm", "llama_memory_clear",
                 "llama_get_memory", "llama_set_n_threads", "llama_log_set", "llama_vocab_is_eog",
                 "llama_model_default_params", "llama_n_batch", "llama_print_system_info"):
        assert callable(getattr(llama_cpp, name)), name
    assert "use_extra_bufts" in dict(llama_cpp.llama_model_params._fields_)
