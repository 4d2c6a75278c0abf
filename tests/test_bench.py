"""The bench's arithmetic: the best base-alone row is every ratio's denominator; where the
time went adds up. (No timing is asserted: figures come from a real run only.)"""

from __future__ import annotations

import pytest
from fakes import chain, make_nudger

from nudge_local import EvalCounters
from nudge_local.bench import BenchReport, Row, run_bench


def _report(rows):
    return BenchReport(pair={"name": "p", "base": "b", "nudging": "n"}, gamma=0.4, max_tokens=128,
                       prompt_set="default", prompts=6, cores=2, plan="overlap", rows=rows,
                       peak_rss_bytes=700, model_file_bytes=300, kv_cache_bytes=200)


def _rows():
    return [
        Row("llama-cpp-python loop, 1 thread", "llama-cpp-python", "overlap", tokens=100, seconds=4.0),
        Row("base alone, 1 thread", "base", "overlap", tokens=100, seconds=5.0),
        Row("llama-cpp-python loop, 2 threads", "llama-cpp-python", "turns", tokens=100, seconds=2.0),
        Row("base alone, 2 threads", "base", "turns", tokens=100, seconds=2.5),
        Row("nudging alone, 1 thread", "nudging", "overlap", tokens=50, seconds=1.0),
        Row("nudging alone, 2 threads", "nudging", "turns", tokens=50, seconds=0.8),
        Row("nudged, overlap (default)", "nudged", "overlap", tokens=90, seconds=6.0, default=True,
            base_work=EvalCounters(single_tokens=80, decode_seconds=4.0),
            nudging_work=EvalCounters(single_tokens=40, decode_seconds=0.9), wait_seconds=0.5),
        Row("nudged, turns", "nudged", "turns", tokens=90, seconds=4.5,
            base_work=EvalCounters(single_tokens=80, decode_seconds=2.1),
            nudging_work=EvalCounters(single_tokens=40, decode_seconds=0.7)),
    ]


def test_the_fastest_base_alone_row_is_the_denominator():
    r = _report(_rows())
    assert r.baseline.label == "llama-cpp-python loop, 2 threads"  # 50 tokens/s, the best of four
    nudged = r.rows[6]
    assert r.ratio(nudged) == pytest.approx((90 / 6.0) / 50.0)
    assert r.ratio(r.baseline) == pytest.approx(1.0)


def test_ideal_time_is_side_by_side_with_overlap_and_summed_without():
    r = _report(_rows())
    overlap, turns = r.breakdown(r.rows[6]), r.breakdown(r.rows[7])
    # overlap: base 80 tokens at 5.0/100 s each = 4.0 s; nudging 40 at 1.0/50 = 0.8 s -> max
    assert overlap.ideal_seconds == pytest.approx(4.0)
    # turns: base 80 at 2.5/100 = 2.0 s plus nudging 40 at 0.8/50 = 0.64 s
    assert turns.ideal_seconds == pytest.approx(2.64)
    # the main thread's time: in llama.cpp (base only, the nudging model runs on the worker),
    # waiting, and the rest in Python
    assert overlap.python_seconds == pytest.approx(6.0 - 4.0 - 0.5)
    assert turns.python_seconds == pytest.approx(4.5 - 2.1 - 0.7)


def test_json_carries_every_row_and_the_baseline():
    d = _report(_rows()).as_dict()
    assert d["baseline"] == {"label": "llama-cpp-python loop, 2 threads", "plan": "turns", "tokens_per_second": 50.0}
    assert len(d["rows"]) == 8 and d["rows"][6]["over_best_base"] == pytest.approx(0.3, abs=1e-3)
    assert "breakdown" in d["rows"][6] and "breakdown" not in d["rows"][0]
    assert d["rss_over_files_plus_kv"] == pytest.approx(1.4)


def test_run_bench_on_a_scripted_pair_measures_each_plan():
    n = make_nudger(chain("Sure,", *[{w: 0.9} for w in (" one", " two")]), chain("", "Sure", ",", " the"))
    n.use_plan("overlap")
    report = run_bench(n, prompts=["Q", "Q"], max_tokens=8, fast=True)
    modes = [(r.mode, r.plan) for r in report.rows]
    assert ("base", "overlap") in modes and ("base", "turns") in modes and ("fast", "turns") in modes
    assert not any(m == "llama-cpp-python" for m, _ in modes)  # no GGUF file behind a fake
    nudged = next(r for r in report.rows if r.default)
    assert nudged.mode == "nudged" and nudged.plan == "overlap" and nudged.tokens > 0
    assert n.plan is not None and n.plan.name == "overlap"  # the default plan is restored
