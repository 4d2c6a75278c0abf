"""Arguments and model loading shared by the commands that run models.

Every check that does not need the models runs before they load (a mistake costs one sentence,
not a minute of loading): generation settings (gamma, max tokens, ...), llama.cpp settings,
the pair name, the remote-model flags.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import ModelSettings, SettingError

if TYPE_CHECKING:
    from .. import Nudger

DEFAULT_TIMEOUT = 120.0
#: Where an API key is read from when its flag is not given (keys on a command line are visible
#: to other users of the machine in its process list).
_KEY_ENV = {"base": "NUDGE_LOCAL_BASE_API_KEY", "nudging": "NUDGE_LOCAL_NUDGING_API_KEY"}


def add_model_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("models")
    g.add_argument("--pair", help="a pair from the catalog (see `nudge-local models`); default: demo")
    g.add_argument("--base", metavar="PATH", help="base model .gguf (with --nudging)")
    g.add_argument("--nudging", metavar="PATH", help="nudging (instruct) model .gguf (with --base)")
    g.add_argument("--chat-template", metavar="FILE",
                   help="Jinja chat template for the nudging model, if its GGUF (or server) has none")
    r = p.add_argument_group("remote models (an OpenAI-compatible server: vLLM, llama-server, ...; "
                             "see docs/remote.md)")
    for role in ("base", "nudging"):
        r.add_argument(f"--{role}-url", metavar="URL",
                       help=f"the {role} model on a server, e.g. http://host:8000/v1 (instead of --{role})")
        r.add_argument(f"--{role}-model", metavar="NAME",
                       help="the served model's name (default: the server's only model)")
        r.add_argument(f"--{role}-api-key", metavar="KEY",
                       help=f"sent as a Bearer token over HTTPS or to this machine only (default: "
                       f"${_KEY_ENV[role]})")
    r.add_argument("--timeout", type=float, metavar="SECONDS",
                   help=f"seconds to wait for a server's answer (default {DEFAULT_TIMEOUT:g})")
    g.add_argument("--n-ctx", type=int, metavar="N", help="context window of each model")
    g.add_argument("--threads", type=int, metavar="N", help="CPU threads of each model")
    g.add_argument("--n-gpu-layers", type=int, metavar="N",
                   help="layers to offload to the GPU (-1: all; default: all when supported)")


def overrides(args: argparse.Namespace) -> dict[str, int]:
    out: dict[str, int] = {}
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


def check_args(args: argparse.Namespace) -> None:
    """Everything about the command line that can be checked without the models."""
    from ..catalog import pair_name

    for name in ("gamma", "temperature", "top_p", "timeout"):
        value = getattr(args, name, None)
        if isinstance(value, float) and not math.isfinite(value):
            flag = "--timeout" if name == "timeout" else name  # the others read as the API's names
            raise SettingError(f"{flag} must be a finite number, got {value}.")
    gamma = getattr(args, "gamma", None)
    if gamma is not None and not 0.0 <= gamma <= 1.0:  # nan fails too
        raise SettingError(f"gamma must be between 0 and 1, got {gamma}.")
    max_tokens = getattr(args, "max_tokens", None)
    if max_tokens is not None and max_tokens <= 0:
        raise SettingError(f"max_tokens must be a positive whole number, got {max_tokens}.")
    temperature = getattr(args, "temperature", None)
    if temperature is not None and not temperature >= 0:
        raise SettingError(f"temperature must be 0 or more, got {temperature}.")
    top_p = getattr(args, "top_p", None)
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise SettingError(f"top_p must be in (0, 1], got {top_p}.")
    ModelSettings(**overrides(args)).check()
    if getattr(args, "pair", None) is not None:
        pair_name(args.pair)  # --pair "" is an error, never the demo pair
    timeout = getattr(args, "timeout", None)
    if timeout is not None and not 0 < timeout < 86400:
        raise SettingError(f"--timeout must be a number of seconds above 0, got {timeout:g}.")


def model_source(args: argparse.Namespace, role: str, template: str | None) -> Any:
    """What ``--{role}`` / ``--{role}-url`` name: a path, a RemoteModel, or None."""
    from ..remote import RemoteModel

    path, url = getattr(args, role, None), getattr(args, f"{role}_url", None)
    name, key = getattr(args, f"{role}_model", None), getattr(args, f"{role}_api_key", None)
    if path and url:
        raise SettingError(f"Give either --{role} PATH or --{role}-url URL, not both.")
    if not url:
        if name or key:
            raise SettingError(f"--{role}-{'model' if name else 'api-key'} goes with --{role}-url.")
        return path
    return RemoteModel(url, name, key or os.environ.get(_KEY_ENV[role]) or None, role=role,  # type: ignore[arg-type]
                       chat_template=template if role == "nudging" else None,
                       timeout=getattr(args, "timeout", None) or DEFAULT_TIMEOUT)


def load_nudger(args: argparse.Namespace) -> Nudger:
    from .. import Nudger

    check_args(args)
    template = None
    if getattr(args, "chat_template", None):
        try:
            template = Path(args.chat_template).read_text(encoding="utf-8")
        except OSError as exc:
            raise SettingError(f"Cannot read chat template {args.chat_template}: {exc.strerror}.") from None
    base, nudging = model_source(args, "base", template), model_source(args, "nudging", template)
    pair = getattr(args, "pair", None)
    if base or nudging:
        if not (base and nudging):
            raise SettingError("Give both models (--base PATH or --base-url URL, and --nudging PATH or "
                               "--nudging-url URL), or a --pair.")
        if pair:
            raise SettingError("Give either --pair or the two models, not both.")
        return Nudger.from_paths(
            base, nudging,
            base_settings=settings_for(None, args), nudging_settings=settings_for(None, args),
            chat_template=template,
        )
    pair = pair or "demo"
    from ..catalog import load_catalog

    entry = load_catalog().pair(pair)
    return Nudger.from_catalog(
        pair,
        base_settings=settings_for(entry.base, args),
        nudging_settings=settings_for(entry.nudging, args),
        chat_template=template,
    )
