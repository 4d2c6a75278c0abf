"""``nudge-local doctor``: llama.cpp build, GPU offload, threads, RAM and per-pair memory."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "doctor",
        help="show the llama.cpp build, GPU support, and whether the present pairs fit in RAM",
        description="Print the llama.cpp build and system info, whether GPU offload is "
        "supported, the default thread count, the catalog pairs present, and each present "
        "pair's memory estimate (weights + KV cache at the configured n_ctx) against this "
        "machine's RAM.",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..doctor import collect, format_report

    print(format_report(collect()))
    return 0
