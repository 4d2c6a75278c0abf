"""``nudge-local bench``: base alone, nudging model alone and nudged, measured in one run."""

from __future__ import annotations

import argparse
import json
import sys
import time

from .._memory import peak_rss_bytes
from ._common import add_model_args, load_nudger

# Short questions of the kinds the paper evaluates (arithmetic, reasoning, knowledge, instructions).
PROMPTS = [
    "What is 15 plus 27?",
    "Tom has 3 apples and buys 5 more. How many apples does he have now?",
    "What is the capital of France?",
    "Give two tips for sleeping better.",
    "Why is the sky blue?",
    "Name three primary colors.",
]

MODES = [("base alone", "base"), ("nudging alone", "nudging"), ("nudged", None)]


def register(sub) -> None:
    p = sub.add_parser("bench", help="measure base-alone, nudging-alone and nudged speed in one run",
                       description="Run a fixed set of prompts in each mode and print tokens/s "
                       "(counted in the base model's tokens), their ratio, nudge ratio and peak RSS.")
    add_model_args(p)
    p.add_argument("--gamma", type=float, help="threshold (default: the pair's)")
    p.add_argument("--max-tokens", type=int, default=128, help="per answer (128)")
    p.add_argument("--prompts", type=int, default=len(PROMPTS), help=f"how many of the {len(PROMPTS)} prompts")
    p.add_argument("--exact", action="store_true", help="also measure exact mode (the reference's behaviour)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    with load_nudger(args) as nudger:
        load_seconds = time.perf_counter() - t0
        prompts = PROMPTS[: max(1, args.prompts)]
        modes = list(MODES)
        if args.exact:
            modes.append(("nudged, exact", "exact"))
        # Warm-up (page in both models' weights), not measured.
        nudger.generate(prompts[0], max_tokens=8, gamma=args.gamma)
        totals = {label: [0, 0.0] for label, _ in modes}
        ratios = []
        discarded = generated = evaluated = 0
        for i, prompt in enumerate(prompts, 1):
            for label, mode in modes:
                only = mode if mode in ("base", "nudging") else None
                r = nudger.generate(prompt, gamma=args.gamma, max_tokens=args.max_tokens, only=only,
                                    exact=mode == "exact")
                totals[label][0] += r.stats.output_tokens
                totals[label][1] += r.stats.seconds
                if mode is None:
                    ratios.append(r.nudge_ratio)
                    discarded += r.stats.base_discarded_tokens
                    generated += r.stats.base_generated_tokens
                    evaluated += r.stats.base_evaluated_tokens
            if not args.json:
                print(f"  prompt {i}/{len(prompts)} done", file=sys.stderr)
        rate = {label: (n / s if s else 0.0) for label, (n, s) in totals.items()}
        info = nudger.info
        files = info.base.file_bytes + info.nudging.file_bytes
        kv_total = (info.base.kv_cache_bytes or 0) + (info.nudging.kv_cache_bytes or 0)
        peak = peak_rss_bytes()
        figures = {
            "pair": {"base": nudger.names[0], "nudging": nudger.names[1]},
            "gamma": args.gamma if args.gamma is not None else nudger.default_gamma,
            "max_tokens": args.max_tokens,
            "prompts": len(prompts),
            "load_seconds": round(load_seconds, 3),
            "modes": {label: {"tokens": totals[label][0], "seconds": round(totals[label][1], 3),
                              "tokens_per_second": round(rate[label], 2)} for label, _ in modes},
            "nudged_over_base": round(rate["nudged"] / rate["base alone"], 3) if rate["base alone"] else None,
            "mean_nudge_ratio": round(sum(ratios) / len(ratios), 4),
            "nudged_base_tokens_discarded": discarded,
            "nudged_base_tokens_generated": generated,
            "nudged_base_tokens_evaluated": evaluated,
            "peak_rss_bytes": peak,
            "model_file_bytes": files,
            "kv_cache_bytes": kv_total,
            "rss_over_files_plus_kv": round(peak / (files + kv_total), 3),
        }
        if "nudged, exact" in rate and rate["base alone"]:
            figures["exact_over_base"] = round(rate["nudged, exact"] / rate["base alone"], 3)
    if args.json:
        print(json.dumps(figures))
        return 0
    mib = 1024 * 1024
    print(f"pair: base {nudger.names[0]}, nudging {nudger.names[1]}; gamma {figures['gamma']}, "
          f"{len(prompts)} prompts, max {args.max_tokens} tokens (tokens counted in the base tokenizer)")
    print(f"model loading: {load_seconds:.2f} s (not in the figures below)")
    print(f"{'mode':<22}{'tokens':>8}{'seconds':>10}{'tokens/s':>10}")
    for label, _ in modes:
        n, s = totals[label]
        print(f"{label:<22}{n:>8}{s:>10.2f}{rate[label]:>10.1f}")
    print(f"nudged / base-alone tokens/s: {figures['nudged_over_base']:.2f}x")
    if "exact_over_base" in figures:
        print(f"nudged (exact) / base-alone tokens/s: {figures['exact_over_base']:.2f}x")
    print(f"mean nudge ratio: {figures['mean_nudge_ratio']:.1%}")
    print(f"nudged: the base generated {generated} tokens, {discarded} of them dropped by the "
          f"repetition guards; it evaluated {evaluated} tokens, prompts included (text written "
          f"again after a drop is reused from the KV cache)")
    print(f"peak RSS: {peak / mib:.0f} MiB; model files {files / mib:.0f} MiB + KV caches "
          f"{kv_total / mib:.0f} MiB = {(files + kv_total) / mib:.0f} MiB; "
          f"ratio {figures['rss_over_files_plus_kv']:.2f}x")
    return 0
