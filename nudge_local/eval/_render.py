"""The report as terminal text: a table per task and an average table, then a text chart of
accuracy against γ."""

from __future__ import annotations

from ._plan import System
from ._report import AVERAGE, Comparison, EvalReport, TableRow

BAR = 30


def pct(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{100 * x:.{digits}f}%"


def signed_points(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:+.1f}"


def p_text(p: float) -> str:
    return "p=1" if p >= 0.9995 else (f"p={p:.3f}" if p >= 0.001 else "p<0.001")


def render_report(report: EvalReport) -> str:
    """Every table, the comparisons and the chart, as one text."""
    comparisons: dict[tuple[str, str, str], Comparison] = {
        (c.task, c.system, c.versus): c for c in report.comparisons()}
    scopes = report.tasks + ([AVERAGE] if len(report.tasks) > 1 else [])
    blocks = [_header(report)]
    for task in scopes:
        rows = [report.average_row(s) if task == AVERAGE else report.row(task, s) for s in report.systems]
        blocks.append(_table(task, rows, report.systems, comparisons, report))
    blocks.append(text_chart(report))
    best = report.best_gamma()
    if best is not None:
        blocks.append(f"best γ (nudged, average accuracy; ties: lower nudge ratio): {best:g}")
    return "\n\n".join(b for b in blocks if b)


def _header(report: EvalReport) -> str:
    c = report.config
    state = f"PARTIAL: {report.done} of {report.total} answers" if report.partial else f"{report.done} answers"
    limit = "all items" if c.get("limit") is None else f"limit {c['limit']}, seed {c.get('seed')}"
    return (f"pair: {report.pair_label} (base {c['pair']['base']['name']}, nudging {c['pair']['nudging']['name']})"
            f"\n{state}; {limit}; max {c.get('max_tokens')} tokens; greedy")


def _table(task: str, rows: list[TableRow], systems: list[System],
           comparisons: dict[tuple[str, str, str], Comparison], report: EvalReport) -> str:
    if task == AVERAGE:
        title = f"average over {len(report.tasks)} tasks (differences: mean over the tasks; p-values: all items pooled)"
    else:
        spec = next(t for t in report.config["tasks"] if t["name"] == task)
        unread = sum(r.unreadable for r in rows)
        title = f"{task} ({len(spec['indices'])} items, scorer {spec['scorer']}; {unread} answers no rule could read)"
    head = f"{'system':<15}{'accuracy':>16}{'nudge':>8}{'tok/s':>7}{'unread':>7}  {'vs base':<16}{'vs nudging':<16}"
    if any(s.kind == "fast" for s in systems):
        head += "vs nudged (same γ)"
    lines = [title, head]
    for system, row in zip(systems, rows, strict=True):
        acc = f"{pct(row.accuracy)} ± {pct(row.stderr)}" if row.stderr is not None else pct(row.accuracy)
        rate = "-" if row.tokens_per_second is None else f"{row.tokens_per_second:.1f}"
        line = f"{row.system:<15}{acc:>16}{pct(row.nudge_ratio, 0):>8}{rate:>7}{row.unreadable:>7}  "
        for versus in ("base", "nudging"):
            line += f"{_diff(comparisons.get((task, system.label, versus))):<16}"
        if system.kind == "fast":
            line += _diff(comparisons.get((task, system.label, System("nudged", system.gamma).label)))
        lines.append(line.rstrip())
    return "\n".join(lines)


def _diff(c: Comparison | None) -> str:
    if c is None or c.difference is None:
        return ""
    return f"{signed_points(c.difference)} ({p_text(c.p_value)})"


def text_chart(report: EvalReport) -> str:
    """Accuracy (average over tasks) of each nudged system against γ, with the two models
    alone marked on the same scale: B = base alone, N = nudging model alone."""
    gammas = sorted({s.gamma for s in report.systems if s.gamma is not None})
    if not gammas:
        return ""
    keys = {s.key for s in report.systems}
    refs: dict[str, float | None] = {
        k: report.average_row(System(k)).accuracy for k in ("base", "nudging") if k in keys}
    legend = "  ".join(f"{k[0].upper()} = {k} alone {pct(a)}" for k, a in refs.items())
    lines = [f"accuracy vs γ (average over tasks; bar scale 0-100%){'; ' + legend if legend else ''}"]
    for g in gammas:
        for kind in ("nudged", "fast"):
            s = System(kind, g)
            if s.key not in keys:
                continue
            row = report.average_row(s)
            lines.append(f"γ={g:<5g}{kind:<7}{_bar(row.accuracy, refs)} {pct(row.accuracy):>6}"
                         f"  nudge ratio {pct(row.nudge_ratio, 0)}")
    return "\n".join(lines)


def _bar(value: float | None, refs: dict[str, float | None]) -> str:
    filled = round((value or 0.0) * BAR)
    cells = ["█"] * filled + ["·"] * (BAR - filled)
    for name, acc in refs.items():
        if acc is not None:
            cells[min(BAR - 1, round(acc * BAR))] = name[0].upper()
    return "".join(cells)
