"""``nudge-local eval`` on the real demo pair (llama.cpp), with a tiny limit."""

from __future__ import annotations

import json

import pytest

from nudge_local.eval import render_report, run_eval

pytestmark = pytest.mark.real


def test_demo_pair_eval_writes_table_json_samples_and_png(demo_nudger, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "run"
    report = run_eval(demo_nudger, ["arithmetic", "coin_flip"], gammas=[0.4], systems="base,nudging,fast,nudged",
                      limit=1, max_tokens=24, out_dir=out)
    assert not report.partial and report.done == 8
    table = render_report(report)
    for label in ("base", "nudging", "fast γ=0.4", "nudged γ=0.4", "average over 2 tasks", "accuracy vs γ"):
        assert label in table
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["pair"]["base"]["sha256"] and len(results["config"]["pair"]["base"]["sha256"]) == 64
    assert results["config"]["versions"]["llama-cpp-python"]
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 8
    by_system = {s["system_key"]: s for s in samples if s["task"] == "coin_flip"}
    assert by_system["base"]["nudge_ratio"] == 0.0 and by_system["nudging"]["nudge_ratio"] == 1.0
    assert all(s["resps"][0][0].strip() and s["tokens"] > 0 for s in samples)
    assert results["results"]["coin_flip"]["base"]["correct"] == by_system["base"]["acc"]
    assert (out / "accuracy_vs_gamma.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
