"""``nudge_local.eval``: the paper's evaluation on the user's own pair, offline.

Run it::

    from nudge_local import Nudger
    from nudge_local.eval import run_eval

    with Nudger.from_catalog("demo") as n:
        report = run_eval(n, ["coin_flip", "arithmetic"], gammas=[0.3, 0.4],
                          systems=["base", "nudging", "nudged", "fast"], limit=30)
    print(report.path, report.best_gamma())

Systems: ``"base"`` and ``"nudging"`` (each model alone, ``only=...``), ``"nudged"`` (the
engine's default at each γ: the paper's rule, ``exact=True``; ``"exact"`` is accepted as
another name for it) and ``"fast"`` (the lazy mode, ``exact=False``, at each γ). Generation
is greedy with the paper's prompts (system prompt
"Answer the question by walking through the reasoning steps.", prefix "Question: ").

For the chat UI (a small API kept stable):

* ``last_results(pair_label) -> EvalReport | None``: the newest run (finished or partial) of
  the pair labelled ``pair_label`` (``Nudger.info.label``) under the default results folder
  ``<user data dir>/eval/``; None when there is none. It reads files only, in well under a
  second for a typical run, and never loads a model.
* ``EvalReport.best_gamma() -> float | None``: the γ whose nudged system scored best on
  average over the tasks (ties: the smaller nudge ratio, then the smaller γ).
* ``EvalReport.table_rows() -> list[TableRow]``: one row per task and system, then one
  ``task == "average"`` row per system. ``TableRow`` fields: ``task``, ``system`` (label such
  as "nudged γ=0.4"), ``kind`` ("base" | "nudging" | "nudged" | "fast"), ``gamma``,
  ``accuracy``, ``stderr``, ``nudge_ratio`` (fractions 0..1, or None), ``n``, ``unreadable``,
  ``tokens_per_second``.
* ``EvalReport.partial``, ``.done``, ``.total``, ``.path``, ``.pair_label``, ``.tasks``;
  ``EvalReport.comparisons()`` gives the paired differences and McNemar p-values.
* ``render_report(report) -> str``: the same table as the terminal shows.
"""

from __future__ import annotations

from ._builtin import BUILTIN
from ._datasets import DATASETS, DatasetError, read_records
from ._plan import (
    DEFAULT_GAMMAS,
    DEFAULT_SYSTEMS,
    PAPER_LIMIT,
    PAPER_SEED,
    System,
    parse_gammas,
    parse_systems,
    sample_indices,
)
from ._registry import DEFAULT_TASKS, default_data_dir, resolve_task, resolve_tasks, task_names
from ._render import render_report, text_chart
from ._report import Comparison, EvalReport, TableRow
from ._runner import Progress, finish, load_results, run_eval
from ._scoring import SCORERS
from ._stats import mcnemar_exact, standard_error
from ._store import default_out_dir, results_root, run_folders
from ._tasks import REASONING_SYSTEM, Item, Scored, Scorer, Task, score

__all__ = [
    "BUILTIN",
    "Comparison",
    "DATASETS",
    "DEFAULT_GAMMAS",
    "DEFAULT_SYSTEMS",
    "DEFAULT_TASKS",
    "DatasetError",
    "EvalReport",
    "Item",
    "PAPER_LIMIT",
    "PAPER_SEED",
    "Progress",
    "REASONING_SYSTEM",
    "SCORERS",
    "Scored",
    "Scorer",
    "System",
    "TableRow",
    "Task",
    "default_data_dir",
    "default_out_dir",
    "finish",
    "last_results",
    "load_results",
    "mcnemar_exact",
    "parse_gammas",
    "parse_systems",
    "read_records",
    "render_report",
    "resolve_task",
    "resolve_tasks",
    "results_root",
    "run_eval",
    "sample_indices",
    "score",
    "standard_error",
    "task_names",
    "text_chart",
]


def last_results(pair_label: str) -> EvalReport | None:
    """The newest eval run of this pair under the default results folder, finished or
    partial; None if there is none (or none that can be read)."""
    from nudge_local import NudgeError

    for folder in run_folders(pair_label):
        try:
            return load_results(folder)
        except (NudgeError, KeyError, TypeError, ValueError):
            continue  # a damaged folder: try the next older one
    return None
