"""Arguments and model loading shared by the commands that run models."""

from __future__ import annotations

import argparse
from pathlib import Path

from .._errors import SettingError
from .._settings import ModelSettings


def add_model_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("models")
    g.add_argument("--pair", help="a pair from the catalog (see `nudge-local models`); default: demo")
    g.add_argument("--base", metavar="PATH", help="base model .gguf (with --nudging)")
    g.add_argument("--nudging", metavar="PATH", help="nudging (instruct) model .gguf (with --base)")
    g.add_argument("--chat-template", metavar="FILE",
                   help="Jinja chat template for the nudging model, if its GGUF has none")
    g.add_argument("--n-ctx", type=int, metavar="N", help="context window of each model")
    g.add_argument("--threads", type=int, metavar="N", help="CPU threads of each model")
    g.add_argument("--n-gpu-layers", type=int, metavar="N",
                   help="layers to offload to the GPU (-1: all; default: all when supported)")


def overrides(args: argparse.Namespace) -> dict:
    out = {}
    for field, value in (("n_ctx", args.n_ctx), ("n_threads", args.threads),
                         ("n_gpu_layers", args.n_gpu_layers)):
        if value is not None:
            out[field] = value
    if out.get("n_ctx", 1) <= 0:
        raise SettingError("--n-ctx must be a positive number of tokens.")
    if out.get("n_threads", 1) <= 0:
        raise SettingError("--threads must be at least 1.")
    return out


def settings_for(model_name: str | None, args: argparse.Namespace) -> ModelSettings:
    """Effective settings: command line over the user's config file over defaults."""
    try:
        from ..config import resolve_settings
    except ImportError:
        return ModelSettings(**overrides(args))
    settings, _sources = resolve_settings(model_name, overrides(args))
    return settings


def load_nudger(args: argparse.Namespace):
    from .._nudger import Nudger

    template = None
    if getattr(args, "chat_template", None):
        try:
            template = Path(args.chat_template).read_text(encoding="utf-8")
        except OSError as exc:
            raise SettingError(f"Cannot read chat template {args.chat_template}: {exc.strerror}.") from None
    if args.base or args.nudging:
        if not (args.base and args.nudging):
            raise SettingError("Give both --base and --nudging, or a --pair.")
        if args.pair:
            raise SettingError("Give either --pair or --base/--nudging, not both.")
        return Nudger.from_paths(
            args.base, args.nudging,
            base_settings=settings_for(None, args), nudging_settings=settings_for(None, args),
            chat_template=template,
        )
    pair = args.pair or "demo"
    from ..catalog import load_catalog

    entry = load_catalog().pair(pair)
    return Nudger.from_catalog(
        pair,
        base_settings=settings_for(entry.base, args),
        nudging_settings=settings_for(entry.nudging, args),
        chat_template=template,
    )
