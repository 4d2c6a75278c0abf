"""accuracy_vs_gamma.png: accuracy and nudge ratio against γ, the two models alone as
reference lines. matplotlib is optional (the ``eval`` extra) and imported only here."""

from __future__ import annotations

from ._plan import Kind, System
from ._report import EvalReport
from ._store import PLOT

NO_MATPLOTLIB = "No plot: matplotlib is not installed (pip install 'nudge-local[eval]')."


def write_plot(report: EvalReport) -> str | None:
    """Draw the plot into the run folder; returns None, or one sentence saying why not."""
    assert report.path is not None
    gammas = sorted({s.gamma for s in report.systems if s.gamma is not None})
    if not gammas:
        return "No plot: the run has no nudged system (no γ to plot against)."
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, never a window
        import matplotlib.pyplot as plt
    except ImportError:
        return NO_MATPLOTLIB
    fig, (acc_ax, ratio_ax) = plt.subplots(1, 2, figsize=(10, 4))
    keys = {s.key for s in report.systems}
    styles: tuple[tuple[Kind, str], ...] = (("nudged", "o-"), ("fast", "s--"))
    for kind, style in styles:
        systems = [System(kind, g) for g in gammas if System(kind, g).key in keys]
        if not systems:
            continue
        rows = [report.average_row(s) for s in systems]
        xs = [s.gamma for s in systems]
        acc_ax.plot(xs, [100 * (r.accuracy or 0.0) for r in rows], style, label=f"{kind} (pair)")
        ratio_ax.plot(xs, [100 * (r.nudge_ratio or 0.0) for r in rows], style, label=kind)
    references: tuple[tuple[Kind, str], ...] = (("base", "tab:gray"), ("nudging", "tab:green"))
    for alone, color in references:
        if alone in keys:
            acc = report.average_row(System(alone)).accuracy
            if acc is not None:
                acc_ax.axhline(100 * acc, color=color, linestyle=":", label=f"{alone} alone")
    title = f"accuracy, {report.tasks[0]}" if len(report.tasks) == 1 else f"accuracy, mean of {len(report.tasks)} tasks"
    acc_ax.set(xlabel="γ", ylabel="accuracy (%)", title=title)
    ratio_ax.set(xlabel="γ", ylabel="nudged words (%)", title="nudge ratio")
    acc_ax.legend(fontsize="small")
    ratio_ax.legend(fontsize="small")
    fig.suptitle(f"{report.pair_label}" + (" (partial run)" if report.partial else ""))
    fig.tight_layout()
    fig.savefig(report.path / PLOT, dpi=110)
    plt.close(fig)
    return None
