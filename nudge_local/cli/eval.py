"""``nudge-local eval``: the paper's table (base alone, nudging model alone, nudged at each γ)
for a pair, on built-in tasks or the user's dataset files, offline."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from nudge_local import SettingError

from ._common import add_model_args, load_nudger

_SKIP_IN_RESUME = {"out", "resume", "quiet", "list_tasks", "func", "command"}
_parser: argparse.ArgumentParser | None = None


def register(sub: Any) -> None:
    from nudge_local.eval import DEFAULT_GAMMAS, DEFAULT_TASKS, PAPER_LIMIT, PAPER_SEED, REASONING_SYSTEM

    global _parser
    p = sub.add_parser(
        "eval", help="evaluate a pair: base alone vs nudging model alone vs nudged (the paper's table)",
        description="Run the paper's zero-shot, greedy evaluation on this machine: each task's items "
        "answered by the base model alone, the nudging model alone, and the pair nudged at each γ, "
        "scored by rule. Results: a table, results.json, samples.jsonl and a PNG plot.")
    add_model_args(p)
    g = p.add_argument_group("evaluation")
    g.add_argument("--tasks", default=",".join(DEFAULT_TASKS),
                   help="comma-separated task names or task files (.toml/.yaml); default: the built-in "
                   "tasks; --list-tasks shows them all")
    g.add_argument("--list-tasks", action="store_true", help="list the known tasks and exit")
    g.add_argument("--gammas", default=",".join(f"{x:g}" for x in DEFAULT_GAMMAS),
                   help="γ values for the nudged systems (default: %(default)s)")
    g.add_argument("--systems", default="base,nudging,nudged",
                   help="any of base,nudging,nudged,fast (nudged: the engine's default, the paper's rule; "
                   "fast: the lazy mode, exact=False; default: %(default)s)")
    g.add_argument("--limit", default=str(PAPER_LIMIT),
                   help="items per task, a seeded random sample as in the paper (default %(default)s; "
                   "'all' for every item)")
    g.add_argument("--seed", type=int, default=PAPER_SEED,
                   help="seed of the sample (default: the paper's, %(default)s)")
    g.add_argument("--max-tokens", type=int, default=512,
                   help="answer length limit, in base tokens (default %(default)s)")
    g.add_argument("--system-prompt", default=REASONING_SYSTEM, help="default: the paper's reasoning prompt")
    g.add_argument("--data-dir", metavar="DIR", help="where dataset files are looked for "
                   "(default: <user data dir>/datasets)")
    g.add_argument("--data", action="append", default=[], metavar="TASK=FILE",
                   help="the file of a dataset task, e.g. gsm8k=~/data/gsm8k_test.jsonl (repeatable)")
    o = p.add_argument_group("output")
    o.add_argument("--out", metavar="DIR", help="results folder (default: <user data dir>/eval/<pair>/<time>)")
    o.add_argument("--resume", action="store_true", help="continue the run in --out, skipping finished items")
    o.add_argument("--no-plot", action="store_true", help="do not draw the PNG")
    o.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    _parser = p


def _int(text: str | int, flag: str, *, allow_all: bool = False) -> int | None:
    if allow_all and isinstance(text, str) and text.strip().lower() == "all":
        return None
    try:
        value = int(text)
    except ValueError:
        raise SettingError(f"{flag} takes a whole number{' or all' if allow_all else ''}; got {text!r}.") from None
    if flag != "--seed" and value <= 0:
        raise SettingError(f"{flag} must be at least 1; got {value}.")
    return value


def _data_files(specs: list[str]) -> dict[str, Path]:
    out = {}
    for spec in specs:
        name, sep, file = spec.partition("=")
        if not sep or not name.strip() or not file.strip():
            raise SettingError(f"--data takes TASK=FILE (e.g. gsm8k=gsm8k_test.jsonl); got {spec!r}.")
        out[name.strip()] = Path(file.strip()).expanduser()
    return out


def run(args: argparse.Namespace) -> int:
    from nudge_local.eval import parse_gammas, parse_systems, resolve_tasks

    if args.list_tasks:
        _print_tasks()
        return 0
    if args.resume and not args.out:
        raise SettingError("--resume needs --out DIR, the folder of the run to continue.")
    options = {
        "gammas": parse_gammas(args.gammas), "systems": parse_systems(args.systems),
        "limit": _int(args.limit, "--limit", allow_all=True), "seed": _int(args.seed, "--seed"),
        "max_tokens": _int(args.max_tokens, "--max-tokens"), "system_prompt": args.system_prompt,
    }
    data_dir = Path(args.data_dir).expanduser() if args.data_dir else None
    files = _data_files(args.data)
    names = [t for t in (s.strip() for s in args.tasks.split(",")) if t]
    # Load the tasks (and their files) before the models: a mistake there costs no loading time.
    tasks = resolve_tasks(names, data_dir=data_dir, data_files=files)
    with load_nudger(args) as nudger:
        return _evaluate(args, nudger, tasks, options)


def _evaluate(args: argparse.Namespace, nudger: Any, tasks: list[Any], options: dict[str, Any]) -> int:
    from nudge_local.eval import default_out_dir, render_report, run_eval

    out = Path(args.out).expanduser() if args.out else default_out_dir(nudger.info.label)
    cancel = threading.Event()
    bar = _ProgressBar(enabled=not args.quiet)
    previous = _install_interrupt(cancel)
    try:
        report = run_eval(nudger, tasks, out_dir=out, resume=args.resume, progress=bar, cancel=cancel,
                          plot=not args.no_plot, **options)
    except KeyboardInterrupt:
        bar.clear()
        _interrupted_at(out, args)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
        bar.clear()
    print(render_report(report))
    print(f"\nresults: {out}/results.json, per item: {out}/samples.jsonl", end="")
    print(f", plot: {out}/accuracy_vs_gamma.png" if report.plot_note is None else "")
    if report.plot_note is not None:
        print(report.plot_note)
    if cancel.is_set():
        _interrupted(report, args)
        return 130
    return 0


def _install_interrupt(cancel: threading.Event) -> Any:
    """First Ctrl+C: finish cleanly (the answer in progress stops within a word and is not
    saved). A second one: stop at once (what is saved stays saved)."""
    if threading.current_thread() is not threading.main_thread():
        return signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: Any) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        print("\nnudge-local: stopping after saving what is done (Ctrl+C again to stop now)", file=sys.stderr)

    return signal.signal(signal.SIGINT, handler)


def _interrupted_at(out: Path, args: argparse.Namespace) -> None:
    from nudge_local.eval import load_results

    try:
        report = load_results(out)
    except SettingError:  # stopped before the run folder was made: nothing to resume
        print("nudge-local: interrupted before any answer was saved.", file=sys.stderr)
        return
    _interrupted(report, args)


def _interrupted(report: Any, args: argparse.Namespace) -> None:
    print(f"nudge-local: interrupted; {report.done} of {report.total} answers are saved in {report.path}. "
          f"Resume with:\n  {resume_command(args, report.path)}", file=sys.stderr)


def resume_command(args: argparse.Namespace, out: Path) -> str:
    """The command line that continues this run: every option that differs from its default,
    then --out and --resume."""
    words = ["nudge-local", "eval"]
    assert _parser is not None
    for action in _parser._actions:  # noqa: SLF001 - argparse keeps no public list
        if not action.option_strings or action.dest in _SKIP_IN_RESUME:
            continue
        value = getattr(args, action.dest, None)
        if value == action.default or value is None:
            continue
        flag = action.option_strings[-1]
        if isinstance(value, bool):
            words.append(flag)
        elif isinstance(value, list):
            for v in value:
                words += [flag, str(v)]
        else:
            words += [flag, str(value)]
    return shlex.join([*words, "--out", str(out), "--resume"])


def _print_tasks() -> None:
    from nudge_local.eval import BUILTIN, DATASETS, default_data_dir

    print("built-in (made by code, no files):")
    for name, make in BUILTIN.items():
        print(f"  {name:<20}{make().description}")
    print(f"datasets (from your files; looked for in {default_data_dir()} or given with --data TASK=FILE):")
    for spec in DATASETS.values():
        print(f"  {spec.name:<20}{spec.title}: {spec.name}.jsonl/.json/.parquet, fields {spec.fields}")
    print("task files: a path ending in .toml or .yaml (see docs/eval.md)")


class _ProgressBar:
    """One line on stderr, redrawn in place on a terminal; elsewhere a line every 10%."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.shown = False
        self.last_step: tuple[str, str, int] | None = None
        self.last_time = 0.0

    def __call__(self, p: Any) -> None:
        if not self.enabled:
            return
        width = 20
        filled = round(width * p.done / p.total) if p.total else width
        line = (f"[{p.run_done}/{p.run_total}, ETA {_duration(p.run_eta_seconds)}] {p.task} · {p.system} "
                f"{p.done}/{p.total} {'█' * filled}{'░' * (width - filled)} ETA {_duration(p.eta_seconds)}")
        if self.tty:
            sys.stderr.write("\r\x1b[2K" + line)
            sys.stderr.flush()
            self.shown = True
            return
        step = (p.task, p.system, (10 * p.done) // max(1, p.total))
        if step != self.last_step or time.monotonic() - self.last_time > 60:
            print(line, file=sys.stderr, flush=True)
            self.last_step, self.last_time = step, time.monotonic()

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()
            self.shown = False


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"
