"""``nudge-local bench``: nudged against the base model alone at its fastest, in one run."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .. import SettingError
from ..bench import PROMPT_SETS, BenchReport, Row, run_bench
from ..units import format_bytes
from ._common import add_model_args, load_nudger


def register(sub: Any) -> None:
    p = sub.add_parser("bench", help="measure nudged speed against the base model alone at its fastest",
                       description="Run a fixed set of prompts as the base model alone (each thread plan, "
                       "and llama-cpp-python's own loop), the nudging model alone and nudged, interleaved, "
                       "and print tokens/s (counted in the base model's tokens) over the fastest base-alone "
                       "row, where the nudged time went, nudge ratio and peak memory.")
    add_model_args(p)
    p.add_argument("--gamma", type=float, help="threshold (default: the pair's)")
    p.add_argument("--max-tokens", type=int, default=128, help="per answer (128)")
    p.add_argument("--prompt-set", choices=sorted(PROMPT_SETS), default="default",
                   help="'default' (6 prompts) or 'held-out' (12 prompts the engine was not tuned on)")
    p.add_argument("--prompts", type=int, help="use only the first N prompts of the set")
    p.add_argument("--fast", action="store_true",
                   help="also measure the lazy mode (exact=False: faster, departs from the paper's rule)")
    p.add_argument("--no-plain", action="store_true", help="skip the plain llama-cpp-python baseline rows")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    prompts = PROMPT_SETS[args.prompt_set]
    if args.prompts is not None:
        if not 1 <= args.prompts <= len(prompts):
            raise SettingError(f"--prompts must be between 1 and {len(prompts)} (the {args.prompt_set} "
                               f"set's size), got {args.prompts}.")
        prompts = prompts[: args.prompts]
    with load_nudger(args) as nudger:
        load_seconds = nudger.load_seconds

        def progress(i: int, n: int) -> None:
            if not args.json:
                print(f"  prompt {i}/{n} done", file=sys.stderr)

        report = run_bench(nudger, prompts=prompts, prompt_set=args.prompt_set, max_tokens=args.max_tokens,
                           gamma=args.gamma, fast=args.fast, plain_baseline=not args.no_plain,
                           progress=progress)
    if args.json:
        out = report.as_dict()
        out["load_seconds"] = round(load_seconds, 3)
        print(json.dumps(out))
        return 0
    print_report(report, load_seconds)
    return 0


def print_report(report: BenchReport, load_seconds: float) -> None:
    p = report.pair
    print(f"pair: base {p['base']}, nudging {p['nudging']}; gamma {report.gamma}; {report.prompts} "
          f"{report.prompt_set} prompts, max {report.max_tokens} tokens (counted in the base tokenizer); "
          f"{report.cores} cores; default plan: {report.plan}")
    print(f"model loading: {load_seconds:.2f} s (not in the figures below)")
    base = report.baseline
    print(f"{'row':<38}{'tokens':>8}{'seconds':>10}{'tokens/s':>10}{'/ best base':>13}{'nudge ratio':>13}")
    for r in report.rows:
        ratio = f"{report.ratio(r):.2f}x"
        nr = "" if r.mean_nudge_ratio is None else f"{r.mean_nudge_ratio:.1%}"
        mark = "  <- baseline" if r is base else ""
        print(f"{r.label:<38}{r.tokens:>8}{r.seconds:>10.2f}{r.rate:>10.1f}{ratio:>13}{nr:>13}{mark}")
    print(f"baseline: {base.label} ({base.rate:.1f} tokens/s), the fastest base-alone row")
    for r in report.rows:
        if r.default:
            _print_breakdown(report, r)
        elif r.plan == "-" and r.mode in ("nudged", "fast"):
            _print_remote(report, r)
    files_kv = report.model_file_bytes + report.kv_cache_bytes
    if files_kv:
        print(f"peak RSS {format_bytes(report.peak_rss_bytes)}; model files "
              f"{format_bytes(report.model_file_bytes)} + KV caches {format_bytes(report.kv_cache_bytes)} = "
              f"{format_bytes(files_kv)}; ratio {report.peak_rss_bytes / files_kv:.2f}x")


def _print_remote(report: BenchReport, row: Row) -> None:
    """A pair with a model on a server: what its calls cost."""
    for name, work in (("base", row.base_work), ("nudging", row.nudging_work)):
        if not work.decode_calls:
            continue
        print(f"  {name:<8} {work.decode_calls / max(1, report.prompts):.1f} calls per answer, "
              f"mean call {1000 * work.decode_seconds / work.decode_calls:.0f} ms, "
              f"{work.single_tokens} tokens generated, {work.unused_tokens} of them thrown away "
              f"by the rule, {work.batched_tokens} prompt tokens sent ({row.label}, {row.rate:.1f} tokens/s)")


def _print_breakdown(report: BenchReport, row: Row) -> None:
    b = report.breakdown(row)
    print(f"where the time went ({row.label}):")
    for name, work in (("base", b.base), ("nudging", b.nudging)):
        print(f"  {name:<8} {int(work['single_tokens'])} tokens decoded one at a time, "
              f"{int(work['batched_tokens'])} in batches, {int(work['decode_calls'])} llama.cpp calls, "
              f"{int(work['rows_read'])} logits rows read ({int(work['rows_reused'])} reused), "
              f"{work['decode_seconds']:.2f} s in llama.cpp"
              + (f", {int(work['one_thread_fallbacks'])} falls back to one thread (a core busy elsewhere)"
                 if work.get("one_thread_fallbacks") else ""))
    print(f"  base tokens generated {b.base_generated}, thrown away by the repetition guards {b.base_discarded}")
    print(f"  main thread: {b.python_seconds:.2f} s in Python, {b.wait_seconds:.2f} s waiting for the other thread")
    print(f"  measured {b.measured_seconds:.2f} s; ideal {b.ideal_seconds:.2f} s (the same single-token decodes "
          f"at each model's speed alone, {'side by side' if row.plan == 'overlap' else 'one after the other'})")
