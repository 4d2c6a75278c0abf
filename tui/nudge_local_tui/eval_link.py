"""The chat UI's window on ``nudge-local eval``: the last run's table for the loaded pair and
the γ it scored best with. The eval package is optional here: without it (or without a run)
the UI says so and carries on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nudge_local.eval import EvalReport, TableRow


def last_report(pair_label: str) -> EvalReport | None:
    """The newest eval run of this pair, or None (no eval package, no run, unreadable)."""
    try:
        from nudge_local.eval import last_results
    except ImportError:
        return None
    try:
        return last_results(pair_label)
    except Exception:  # a results folder we cannot read must not stop the chat
        return None


def best_gamma_note(pair_label: str) -> tuple[float | None, str]:
    """(best γ, a sentence for the controls panel); (None, "") when there is no eval."""
    return suggestion(last_report(pair_label))


def suggestion(report: EvalReport | None) -> tuple[float | None, str]:
    if report is None:
        return None, ""
    gamma = report.best_gamma()
    if gamma is None:
        return None, "The last eval of this pair has no nudged results yet (f4)."
    partial = " (partial run)" if report.partial else ""
    return gamma, f"Best γ in the last eval{partial}: {gamma:.2f} on {', '.join(report.tasks)} (f4 for the table)."


def percent(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def row_cells(row: TableRow) -> tuple[str, ...]:
    """A table row as the eval screen shows it."""
    acc = percent(row.accuracy)
    if row.accuracy is not None and row.stderr is not None:
        acc += f" ± {row.stderr:.0%}"
    speed = "—" if row.tokens_per_second is None else f"{row.tokens_per_second:.1f}"
    return (row.task, row.system, acc, percent(row.nudge_ratio), str(row.n), str(row.unreadable), speed)


COLUMNS = ("task", "system", "accuracy", "nudge ratio", "items", "unreadable", "tok/s")
