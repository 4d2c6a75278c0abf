"""`bench` on a pair whose base is on a server: calls per answer, call latency, tokens the
server generated and the rule threw away, next to tokens/s (issue 10, item 7)."""

from __future__ import annotations

import contextlib
import io

from fake_server import FakeCompletionServer
from fakes import chain, make_pair

from nudge_local import Nudger, RemoteModel
from nudge_local.bench import run_bench
from nudge_local.cli.bench import print_report


def test_bench_reports_the_remote_calls():
    b, n = make_pair(chain("Sure,", *[{w: 0.9} for w in (" one", " two", " three")]),
                     chain("", "Sure", ",", " the", *[" A"] * 13))
    with FakeCompletionServer(b, shape="openai", name="scripted-base") as server:
        base = RemoteModel(server.url, role="base", timeout=10)
        with Nudger(base.open(), n, names=("scripted-base", "scripted-nudging")) as nudger:
            report = run_bench(nudger, prompts=["Q", "Q"], max_tokens=12, fast=True)
    rows = {r.mode: r for r in report.rows}
    assert set(rows) == {"base", "nudging", "nudged", "fast"}  # no thread plans, no plain loop
    nudged = rows["nudged"]
    assert nudged.plan == "-" and nudged.base_work.decode_calls > 0 and nudged.base_work.single_tokens > 0
    assert nudged.base_work.unused_tokens > 0  # 16-token chunks cut at the first unsure token
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        print_report(report, 0.0)
    text = out.getvalue()
    assert "calls per answer" in text and "thrown away by the rule" in text and "mean call" in text
