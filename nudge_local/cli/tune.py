"""``nudge-local tune``: measure how the pair's two models best share this machine's cores."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ._common import add_model_args, load_nudger


def register(sub: Any) -> None:
    p = sub.add_parser("tune", help="measure the thread plans on this machine and keep the fastest",
                       description="Run a short nudged generation with the two models side by side on "
                       "half the cores each ('overlap') and taking turns on all cores ('turns'), check the "
                       "faster one with a core kept busy (llama.cpp's threads collapse when a core is taken "
                       "away), and keep the choice for this machine and pair. The first load of a pair "
                       "does this once; run it again after changing hardware or builds.")
    add_model_args(p)
    p.add_argument("--no-busy-check", action="store_true",
                   help="skip the measurement with one core kept busy")
    p.add_argument("--json", action="store_true", help="print the measurements as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with load_nudger(args) as nudger:
        c = nudger.tune(busy_check=not args.no_busy_check, save=True)
        plan = nudger.plan
    if args.json:
        print(json.dumps({**c.as_dict(), "plan": plan.describe() if plan else None}))
        return 0
    print("tokens/s of a short nudged answer:")
    for name, rate in c.idle.items():
        busy = f", {c.busy[name]:.1f} with a core busy" if name in c.busy else ""
        print(f"  {name:<8} {rate:.1f}{busy}")
    print(f"chosen: {c.chosen} ({c.reason}); {plan.describe() if plan else ''}")
    return 0
