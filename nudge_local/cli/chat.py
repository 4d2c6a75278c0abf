"""``nudge-local chat`` (and plain ``nudge-local``): the terminal chat UI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nudge_local import ModelNotInstalledError, NudgeError, SettingError

from ._common import add_model_args

if TYPE_CHECKING:
    from nudge_local_tui.app import NudgeApp
    from nudge_local_tui.engine import Loader, ModelSpec, PairModel

#: The exit status when the UI crashed (argument errors are 2, as everywhere in the CLI).
CRASHED = 1


def register(sub: Any) -> None:
    p = sub.add_parser(
        "chat",
        help="chat in the terminal UI (the default command)",
        description="Chat with a nudged model pair in the terminal. Starts on --pair, or on "
        "--base/--nudging, else on the last pair used, else on the demo pair.",
    )
    add_model_args(p)
    p.set_defaults(func=run)


def _spec_from_args(args: argparse.Namespace) -> ModelSpec | None:
    from nudge_local_tui.engine import ModelSpec

    pair = getattr(args, "pair", None)
    sides = []
    for role in ("base", "nudging"):
        path, url = getattr(args, role, None), getattr(args, f"{role}_url", None)
        if path and url:
            raise SettingError(f"Give either --{role} PATH or --{role}-url URL, not both.")
        sides.append(url or path)
    base, nudging = sides
    if base or nudging:
        if not (base and nudging):
            raise SettingError("Give both --base and --nudging (a file or a --*-url each), or a --pair.")
        if pair:
            raise SettingError("Give either --pair or --base/--nudging, not both.")
        from nudge_local.catalog import check_model_file

        for side in (base, nudging):
            if not _is_url(side):
                check_model_file(side)  # missing, a folder, a pipe, not a GGUF: one sentence
        return ModelSpec(base=_where(base), nudging=_where(nudging))
    if pair:
        from nudge_local.catalog import load_catalog, model_status

        for entry in load_catalog().pair_models(pair):  # unknown pair: CatalogError
            if model_status(entry).state != "present":
                raise ModelNotInstalledError(
                    f"Pair {pair!r} is not installed; get it with: nudge-local download {pair}."
                )
        return ModelSpec(pair=pair)
    return None


def _is_url(where: str) -> bool:
    return where.startswith(("http://", "https://"))


def _where(side: str) -> str:
    """A model's place as the UI keeps it: a server URL as given, a file as an absolute path
    (API keys never go into the spec, which the chat history stores)."""
    return side if _is_url(side) else str(Path(side).expanduser().resolve())


def _loader(args: argparse.Namespace) -> Loader:
    """Load a spec the way the other commands do (config-file settings, --n-ctx, remote flags)."""
    from ._common import load_nudger

    def load(spec: ModelSpec) -> PairModel:
        ns = argparse.Namespace(**vars(args))
        ns.pair = spec.pair
        for role, where in (("base", spec.base), ("nudging", spec.nudging)):
            remote = where is not None and _is_url(where)
            setattr(ns, role, None if remote else where)
            setattr(ns, f"{role}_url", where if remote else None)
            if not remote:  # --base-model / --base-api-key go with a URL only
                setattr(ns, f"{role}_model", None)
                setattr(ns, f"{role}_api_key", None)
        nudger: PairModel = load_nudger(ns)
        return nudger

    return load


def run_app(app: NudgeApp, headless: bool = False) -> int:
    """Run the UI; 0 when the user quit, ``CRASHED`` when it stopped on an error (Textual has
    then printed the traceback), so a script or a shell never mistakes a crash for success."""
    app.run(headless=headless)
    code = app.return_code
    if code:
        print(f"nudge-local: the chat UI stopped on an error (exit {code}); your saved chats are kept in "
              f"{app.store.path}.", file=sys.stderr)
        return code
    return 0


def run(args: argparse.Namespace) -> int:
    spec = _spec_from_args(args)
    for name in ("chat_template", "n_ctx", "threads", "n_gpu_layers"):
        if not hasattr(args, name):  # plain `nudge-local` may come without the model options
            setattr(args, name, None)
    from ._common import overrides

    overrides(args)  # bad --n-ctx / --threads: one sentence now, not inside the UI

    from nudge_local_tui.app import NudgeApp
    from nudge_local_tui.store import SchemaTooNewError, StoreError, default_store_path, open_store

    try:
        opened = open_store(default_store_path())
    except SchemaTooNewError as exc:
        raise NudgeError(str(exc)) from None
    except StoreError as exc:
        raise NudgeError(f"{exc} Move it aside to start a new one.") from None
    with opened.store as store:
        return run_app(NudgeApp(store=store, spec=spec, loader=_loader(args), notice=opened.notice))
