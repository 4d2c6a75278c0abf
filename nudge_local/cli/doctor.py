"""``nudge-local doctor``: llama.cpp build, GPU offload, threads, RAM and per-pair memory."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "doctor",
        help="show the llama.cpp build, GPU support, and whether the present pairs fit in RAM",
        description="Print the llama.cpp build and system info, whether GPU offload is "
        "supported, the default thread count, the catalog pairs present, and each present "
        "pair's memory estimate (weights + KV cache at the configured n_ctx) against this "
        "machine's RAM; and the start-up probe's result for each remote model (catalog entries "
        "with a url, and servers given with --base-url/--nudging-url).",
    )
    for role in ("base", "nudging"):
        p.add_argument(f"--{role}-url", metavar="URL", help=f"also probe this server as the {role} model")
        p.add_argument(f"--{role}-model", metavar="NAME", help="the served model's name")
        p.add_argument(f"--{role}-api-key", metavar="KEY", help="its API key (HTTPS or this machine only)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..doctor import RemoteTarget, collect, format_report

    extra = []
    for role in ("base", "nudging"):
        url = getattr(args, f"{role}_url", None)
        if url:
            extra.append(RemoteTarget(f"--{role}-url", url, getattr(args, f"{role}_model", None),
                                      getattr(args, f"{role}_api_key", None), role))
    print(format_report(collect(extra)))
    return 0
