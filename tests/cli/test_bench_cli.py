"""`nudge-local bench` runs all modes in one run and reports figures (no timing asserted)."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.real


def test_bench_json_reports_every_mode():
    proc = subprocess.run([sys.executable, "-m", "nudge_local", "bench", "--pair", "demo",
                           "--prompts", "1", "--max-tokens", "12", "--json"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    assert set(figures["modes"]) == {"base alone", "nudging alone", "nudged"}
    for mode in figures["modes"].values():
        assert mode["tokens"] > 0 and mode["seconds"] > 0 and mode["tokens_per_second"] > 0
    base, nudged = figures["modes"]["base alone"], figures["modes"]["nudged"]
    ratio = (nudged["tokens"] / nudged["seconds"]) / (base["tokens"] / base["seconds"])
    assert figures["nudged_over_base"] == pytest.approx(ratio, rel=0.02)
    assert 0.0 <= figures["mean_nudge_ratio"] <= 1.0
    assert figures["peak_rss_bytes"] > figures["model_file_bytes"] * 0.3
    assert figures["kv_cache_bytes"] > 0 and figures["load_seconds"] > 0
