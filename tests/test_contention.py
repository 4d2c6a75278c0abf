"""The busy-core watch: a multi-threaded model falls back to one thread while it is slower."""

from __future__ import annotations

import pytest

from nudge_local._contention import BACKOFF, CONTENDED, PROBE, ThreadWatch


def _run(watch: ThreadWatch, n: int, timing: dict[int, float], steps: int) -> list[int]:
    """``steps`` evaluations offered ``n`` threads, each taking ``timing[threads]`` seconds."""
    used = []
    for _ in range(steps):
        threads = watch.threads(n)
        watch.record(threads, timing[threads])
        used.append(threads)
    return used


def test_an_idle_machine_keeps_every_thread_but_for_a_probe_now_and_then():
    watch = ThreadWatch()
    used = _run(watch, 2, {1: 0.027, 2: 0.017}, 3 * PROBE)
    assert used.count(1) == 3  # one single-thread timing per PROBE evaluations
    assert used[PROBE - 1] == 1 and used[:PROBE - 1] == [2] * (PROBE - 1)


def test_a_busy_core_sends_the_model_to_one_thread_and_it_tries_again_later():
    watch = ThreadWatch()
    _run(watch, 2, {1: 0.027, 2: 0.017}, PROBE)  # idle: both timings known
    used = _run(watch, 2, {1: 0.027, 2: 0.048}, 3 * (BACKOFF + 1))  # another program takes a core
    # a slow evaluation or two (one alone may be a hiccup) and two threads are given up for
    # BACKOFF evaluations, then tried again once each time
    first = used.index(1)
    assert 1 <= first <= 3 and used[first:first + BACKOFF] == [1] * BACKOFF
    assert used.count(2) <= first + 3
    # the other program ends: the next try on two threads sticks
    used = _run(watch, 2, {1: 0.027, 2: 0.017}, BACKOFF + 10)
    assert used[-5:] == [2] * 5


def test_without_a_single_thread_timing_a_collapse_from_the_best_counts():
    watch = ThreadWatch()
    _run(watch, 2, {2: 0.017}, 5)
    fell = [watch.record(2, 0.017 * (CONTENDED + 0.5)) for _ in range(8)]
    assert fell.index(True) >= 1  # the running average takes more than one slow timing
    assert watch.threads(2) == 1 and watch.backoff == BACKOFF - 1


def test_batched_evaluations_follow_the_fallback():
    watch = ThreadWatch()
    assert watch.batch_threads(2) == 2
    watch.record(1, 0.027)
    assert watch.record(2, 0.05) is True
    assert watch.batch_threads(2) == 1 and watch.threads(2) == 1


@pytest.mark.parametrize("n", [0, 1])
def test_one_thread_is_left_alone(n):
    watch = ThreadWatch()
    assert [watch.threads(n) for _ in range(PROBE * 2)] == [n] * (PROBE * 2)


@pytest.mark.real
def test_answers_do_not_depend_on_the_thread_count_of_each_evaluation(demo_nudger, monkeypatch):
    """Thread counts switched evaluation by evaluation (as the watch may) give the same answers
    as the plans' fixed counts: llama.cpp's numbers do not depend on them."""
    prompts = ["What is 15 plus 27?", "Give two tips for sleeping better."]
    try:
        demo_nudger.use_plan("overlap")
        expected = [demo_nudger.generate(p, max_tokens=40).text for p in prompts]
        demo_nudger.use_plan("turns")
        calls = {"n": 0}

        def alternate(self: ThreadWatch, n: int) -> int:
            calls["n"] += 1
            return 1 if calls["n"] % 2 else n

        monkeypatch.setattr(ThreadWatch, "threads", alternate)
        monkeypatch.setattr(ThreadWatch, "batch_threads", alternate)
        switched = [demo_nudger.generate(p, max_tokens=40).text for p in prompts]
    finally:
        monkeypatch.undo()
        demo_nudger.use_plan("overlap")
    assert calls["n"] > 50
    assert switched == expected


@pytest.mark.real
def test_a_fallback_is_counted_and_the_model_steps_on_one_thread(demo_nudger, monkeypatch):
    """The backend side: a timing that shows contention is counted (``bench`` prints it) and
    the next single-token steps run on one thread."""
    base = demo_nudger.base
    try:
        demo_nudger.use_plan("turns")
        before = base.counters.one_thread_fallbacks

        def contended(self: ThreadWatch, threads: int, seconds: float) -> bool:
            if threads > 1:  # every multi-threaded step looks slow
                self.backoff = BACKOFF
                return True
            return False

        monkeypatch.setattr(ThreadWatch, "record", contended)
        demo_nudger.generate("What is 15 plus 27?", max_tokens=8, only="base")
        assert base.counters.one_thread_fallbacks == before + 1
        assert base._watch.backoff > 0 and base._threads_now == 1
    finally:
        monkeypatch.undo()
        demo_nudger.use_plan("overlap")
