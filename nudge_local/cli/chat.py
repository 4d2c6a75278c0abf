"""``nudge-local chat`` (and plain ``nudge-local``): the terminal chat UI."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

from .._errors import ModelFileError, ModelNotInstalledError, NudgeError, SettingError
from ._common import add_model_args


def register(sub) -> None:
    p = sub.add_parser(
        "chat",
        help="chat in the terminal UI (the default command)",
        description="Chat with a nudged model pair in the terminal. Starts on --pair, or on "
        "--base/--nudging, else on the last pair used, else on the demo pair.",
    )
    add_model_args(p)
    p.set_defaults(func=run)


def _spec_from_args(args: argparse.Namespace):
    from tui.engine import ModelSpec

    pair = getattr(args, "pair", None)
    base = getattr(args, "base", None)
    nudging = getattr(args, "nudging", None)
    if base or nudging:
        if not (base and nudging):
            raise SettingError("Give both --base and --nudging, or a --pair.")
        if pair:
            raise SettingError("Give either --pair or --base/--nudging, not both.")
        for path in (base, nudging):
            if not Path(path).expanduser().is_file():
                raise ModelFileError(f"Model file {path} does not exist.")
        return ModelSpec(base=str(Path(base).expanduser().resolve()),
                         nudging=str(Path(nudging).expanduser().resolve()))
    if pair:
        from ..catalog import load_catalog, model_status

        for entry in load_catalog().pair_models(pair):  # unknown pair: CatalogError
            if model_status(entry).state != "present":
                raise ModelNotInstalledError(
                    f"Pair {pair!r} is not installed; get it with: nudge-local download {pair}."
                )
        return ModelSpec(pair=pair)
    return None


def _loader(args: argparse.Namespace):
    """Load a spec the way the other commands do (config-file settings, --n-ctx, ...)."""
    from ._common import load_nudger

    def load(spec):
        ns = argparse.Namespace(**vars(args))
        ns.pair, ns.base, ns.nudging = spec.pair, spec.base, spec.nudging
        return load_nudger(ns)

    return load


def run(args: argparse.Namespace) -> int:
    spec = _spec_from_args(args)
    for name in ("chat_template", "n_ctx", "threads", "n_gpu_layers"):
        if not hasattr(args, name):  # plain `nudge-local` may come without the model options
            setattr(args, name, None)
    from ._common import overrides

    overrides(args)  # bad --n-ctx / --threads: one sentence now, not inside the UI

    from tui.app import NudgeApp
    from tui.store import ChatStore, SchemaTooNewError, default_store_path

    path = default_store_path()
    try:
        store = ChatStore(path)
    except SchemaTooNewError as exc:
        raise NudgeError(str(exc)) from None
    except sqlite3.DatabaseError as exc:
        raise NudgeError(f"The chat history {path} cannot be opened ({exc}); move it aside to start a new one.") from None
    with store:
        NudgeApp(store=store, spec=spec, loader=_loader(args)).run()
    return 0
