"""``nudge-local config show|path``: effective per-model settings and where each came from."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "config",
        help="show the effective model settings (GPU layers, context, threads) or the config path",
        description="Settings come from, highest first: command-line flags, [models.NAME] and "
        "[defaults] in the config file, built-in defaults.",
    )
    sub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="print effective settings and where each came from")
    show.add_argument("--pair", help="show the base and nudging model of this pair")
    show.add_argument("--n-ctx", type=int, help="preview a command-line context size")
    show.add_argument("--threads", "--n-threads", dest="n_threads", type=int,
                      help="preview a command-line thread count")
    show.add_argument("--n-gpu-layers", type=int,
                      help="preview a command-line GPU layer count (-1 = all)")
    show.set_defaults(func=run_show)
    path = sub.add_parser("path", help="print the config file's path")
    path.set_defaults(func=run_path)


def run_path(args: argparse.Namespace) -> int:
    from ..config import config_path

    print(config_path())
    return 0


def run_show(args: argparse.Namespace) -> int:
    from ..catalog import load_catalog
    from ..config import config_path, load_config, resolve_settings

    overrides = {"n_ctx": args.n_ctx, "n_threads": args.n_threads,
                 "n_gpu_layers": args.n_gpu_layers}
    path = config_path()
    print(f"Config file: {path}" + ("" if path.is_file() else " (not created yet)"))
    targets: list[tuple[str, str | None]]
    if args.pair is not None:
        catalog = load_catalog()
        pair = catalog.pair(args.pair)
        targets = [(f"{pair.base} (base of {pair.name})", pair.base),
                   (f"{pair.nudging} (nudging model of {pair.name})", pair.nudging)]
    else:
        targets = [("[defaults] (every model)", None)]
        targets += [(name, name) for name in load_config().get("models", {})]
    for label, name in targets:
        settings, sources = resolve_settings(name, overrides)
        effective = settings.resolved()
        print(label)
        for key in ("n_ctx", "n_threads", "n_gpu_layers"):
            print(f"  {key:<13} {_describe(key, getattr(settings, key), getattr(effective, key))}"
                  f"  [{sources[key]}]")
    return 0


def _describe(key: str, raw: object, effective: object) -> str:
    if raw is not None:
        return str(raw)
    if key == "n_threads":
        return f"{effective} (automatic: half the cores, see `nudge-local tune`)"
    if key == "n_gpu_layers":
        return f"{effective} (automatic: " + ("all layers on the GPU)" if effective == -1
                                             else "no GPU offload in this llama.cpp build)")
    return str(effective)
