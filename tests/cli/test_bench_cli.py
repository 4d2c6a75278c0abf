"""`nudge-local bench` runs every row in one run and reports figures (no timing asserted)."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.real


def test_bench_json_reports_every_row_against_the_best_base():
    proc = subprocess.run([sys.executable, "-m", "nudge_local", "bench", "--pair", "demo",
                           "--prompts", "1", "--max-tokens", "12", "--fast", "--json"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    rows = {(r["mode"], r["plan"]): r for r in figures["rows"]}
    for mode in ("llama-cpp-python", "base", "nudging", "nudged", "fast"):
        for plan in ("overlap", "turns"):
            r = rows[(mode, plan)]
            assert r["tokens"] > 0 and r["seconds"] > 0 and r["tokens_per_second"] > 0
    base_rows = [r for r in figures["rows"] if r["mode"] in ("base", "llama-cpp-python")]
    best = max(base_rows, key=lambda r: r["tokens"] / r["seconds"])
    assert figures["baseline"]["label"] == best["label"]
    nudged = rows[("nudged", figures["default_plan"])]
    ratio = (nudged["tokens"] / nudged["seconds"]) / (best["tokens"] / best["seconds"])
    assert nudged["over_best_base"] == pytest.approx(ratio, rel=0.02) and nudged["default"]
    assert 0.0 <= nudged["mean_nudge_ratio"] <= 1.0
    assert nudged["breakdown"]["base"]["decode_calls"] > 0
    assert figures["peak_rss_bytes"] > figures["model_file_bytes"] * 0.3
    assert figures["kv_cache_bytes"] > 0 and figures["load_seconds"] > 0
