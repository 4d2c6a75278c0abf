"""``nudge-local generate``: one answer, streamed to the terminal (or as JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ._common import add_model_args, load_nudger

# Nudged words: bold cyan on a terminal; the legend on stderr says so.
_NUDGE_ON, _OFF = "\x1b[1;36m", "\x1b[0m"


def register(sub: Any) -> None:
    p = sub.add_parser("generate", help="answer one prompt with a nudged pair",
                       description="Answer PROMPT with the base model nudged by the nudging model.")
    p.add_argument("prompt", metavar="PROMPT", help="the question or instruction ('-' reads stdin)")
    add_model_args(p)
    g = p.add_argument_group("generation")
    g.add_argument("--gamma", type=float, help="nudge where the base's top-1 probability is below this "
                   "(0..1; default: the pair's, else 0.4)")
    g.add_argument("--max-tokens", type=int, default=256, help="answer length limit, in base tokens (256)")
    g.add_argument("--system", help="system prompt (default: 'You are a helpful assistant.')")
    g.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    g.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling when temperature > 0")
    g.add_argument("--seed", type=int, help="random seed for sampling")
    g.add_argument("--only", choices=["base", "nudging"], help="run one model alone, same prompts")
    g.add_argument("--fast", action="store_true",
                   help="the lazy mode: drafts a word at a time and cuts repetition early - faster, but it "
                   "departs from the paper's rule and answered worse in our evaluation (README)")
    g.add_argument("--exact", action="store_true",
                   help="the paper's rule exactly (the default; kept for scripts that pass it)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of streaming")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    with load_nudger(args) as nudger:
        stream = nudger.stream(
            prompt, gamma=args.gamma, max_tokens=args.max_tokens, system=args.system,
            temperature=args.temperature, top_p=args.top_p, seed=args.seed, only=args.only,
            exact=not args.fast,
        )
        if args.json:
            for _ in stream:
                pass
            assert stream.result is not None
            out = stream.result.as_dict()
            out["models"] = {"base": nudger.names[0], "nudging": nudger.names[1]}
            print(json.dumps(out, ensure_ascii=False))
            return 0
        color = sys.stdout.isatty()
        if color and args.only is None:
            print(f"({_NUDGE_ON}nudged words{_OFF} were written by {nudger.names[1]})", file=sys.stderr)
        for piece in stream:
            text = piece.text
            if color and piece.source == "nudging" and args.only is None:
                text = f"{_NUDGE_ON}{text}{_OFF}"
            sys.stdout.write(text)
            sys.stdout.flush()
        sys.stdout.write("\n")
        r = stream.result
        assert r is not None
        s = r.stats
        if args.only is None:
            nudging = f"nudge ratio {r.nudge_ratio:.0%}, {s.nudges} nudges, "
        else:
            nudging = f"{args.only} model alone, "
        print(f"[{s.output_tokens} tokens, {s.tokens_per_second:.1f} tok/s, {nudging}stop: {r.stop_reason}]",
              file=sys.stderr)
    return 0
