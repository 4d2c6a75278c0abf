"""The numbers of a run, computed from its samples alone (so a resumed run, a partial one and
an uninterrupted one are all read the same way)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ._plan import System
from ._stats import accuracy, discordant, mcnemar_exact, standard_error

FORMAT = "nudge-local-eval/1"
AVERAGE = "average"


@dataclass(frozen=True)
class TableRow:
    """One line of the table: a system on a task (or ``task == "average"``: the mean over
    tasks). ``accuracy``/``stderr``/``nudge_ratio`` are fractions (0..1), None without items."""

    task: str
    system: str
    kind: str
    gamma: float | None
    accuracy: float | None
    stderr: float | None
    nudge_ratio: float | None
    n: int
    unreadable: int
    tokens_per_second: float | None


@dataclass(frozen=True)
class Comparison:
    """``system`` minus ``versus`` on the items both answered, with McNemar's exact p-value.
    ``only_system``/``only_versus``: items only one of them got right."""

    task: str
    system: str
    versus: str
    difference: float | None
    p_value: float
    n_pairs: int
    only_system: int
    only_versus: int


class EvalReport:
    """An evaluation run: its settings (``config``), its per-item ``samples`` and what follows
    from them. ``partial`` is True while some planned item has no sample yet."""

    def __init__(self, config: dict[str, Any], samples: Sequence[dict[str, Any]], path: Path | None = None):
        self.config = config
        self.path = path
        #: Set when the plot was not drawn: the sentence saying why (matplotlib missing, ...).
        self.plot_note: str | None = None
        self.systems = [System.from_key(k) for k in config["systems"]]
        self.tasks = [str(t["name"]) for t in config["tasks"]]
        planned = {str(t["name"]): [int(i) for i in t["indices"]] for t in config["tasks"]}
        self._order = planned
        self._cells: dict[tuple[str, str], dict[int, dict[str, Any]]] = {
            (task, s.key): {} for task in self.tasks for s in self.systems}
        wanted = {task: set(ids) for task, ids in planned.items()}
        for r in samples:
            cell = self._cells.get((str(r.get("task")), str(r.get("system_key"))))
            if cell is not None and int(r["doc_id"]) in wanted[str(r["task"])]:
                cell[int(r["doc_id"])] = r
        self.samples = [self._cells[(task, s.key)][i] for task in self.tasks for s in self.systems
                        for i in planned[task] if i in self._cells[(task, s.key)]]

    # -- state ----------------------------------------------------------------------------------
    @property
    def pair_label(self) -> str:
        return str(self.config.get("pair", {}).get("label", ""))

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self._order.values()) * len(self.systems)

    @property
    def done(self) -> int:
        return len(self.samples)

    @property
    def partial(self) -> bool:
        return self.done < self.total

    def records(self, task: str, system: System) -> list[dict[str, Any]]:
        cell = self._cells[(task, system.key)]
        return [cell[i] for i in self._order[task] if i in cell]

    # -- numbers --------------------------------------------------------------------------------
    def row(self, task: str, system: System) -> TableRow:
        recs = self.records(task, system)
        correct = [bool(r["acc"]) for r in recs]
        ratios = [float(r["nudge_ratio"]) for r in recs]
        return TableRow(task, system.label, system.kind, system.gamma, accuracy(correct), standard_error(correct),
                        sum(ratios) / len(ratios) if ratios else None, len(recs),
                        sum(1 for r in recs if not r["readable"]), _rate(recs))

    def average_row(self, system: System) -> TableRow:
        rows = [r for r in (self.row(t, system) for t in self.tasks) if r.n]
        accs = [r.accuracy for r in rows if r.accuracy is not None]
        ses = [r.stderr for r in rows]
        se = (sum(s * s for s in ses if s is not None) ** 0.5 / len(rows)) if rows and None not in ses else None
        ratios = [r.nudge_ratio for r in rows if r.nudge_ratio is not None]
        recs = [rec for t in self.tasks for rec in self.records(t, system)]
        return TableRow(AVERAGE, system.label, system.kind, system.gamma, sum(accs) / len(accs) if accs else None,
                        se, sum(ratios) / len(ratios) if ratios else None, sum(r.n for r in rows),
                        sum(r.unreadable for r in rows), _rate(recs))

    def table_rows(self) -> list[TableRow]:
        """Every task's rows, system by system, then the average rows (what a UI renders)."""
        rows = [self.row(t, s) for t in self.tasks for s in self.systems]
        if len(self.tasks) > 1:
            rows += [self.average_row(s) for s in self.systems]
        return rows

    def pairs(self) -> list[tuple[System, System]]:
        """The comparisons a run reports: nudged and fast against each model alone, and fast
        against nudged at the same γ."""
        keys = {s.key for s in self.systems}
        out = []
        for s in self.systems:
            if s.kind in ("nudged", "fast"):
                out += [(s, System(alone)) for alone in ("base", "nudging") if alone in keys]
                twin = System("nudged", s.gamma)
                if s.kind == "fast" and twin.key in keys:
                    out.append((s, twin))
        return out

    def compare(self, task: str, system: System, versus: System) -> Comparison:
        tasks = self.tasks if task == AVERAGE else [task]
        b = c = n = 0
        diffs = []
        for t in tasks:
            mine, theirs = self._cells[(t, system.key)], self._cells[(t, versus.key)]
            ids = [i for i in self._order[t] if i in mine and i in theirs]
            first = [bool(mine[i]["acc"]) for i in ids]
            second = [bool(theirs[i]["acc"]) for i in ids]
            only_first, only_second = discordant(first, second)
            b, c, n = b + only_first, c + only_second, n + len(ids)
            if ids:
                diffs.append((only_first - only_second) / len(ids))
        diff = sum(diffs) / len(diffs) if diffs else None
        return Comparison(task, system.label, versus.label, diff, mcnemar_exact(b, c), n, b, c)

    def comparisons(self) -> list[Comparison]:
        scopes = self.tasks + ([AVERAGE] if len(self.tasks) > 1 else [])
        return [self.compare(t, s, v) for t in scopes for s, v in self.pairs()]

    def best_gamma(self) -> float | None:
        """The γ whose nudged system (the default mode; the fast mode if the run had none)
        scored best on average over tasks; ties go to the smaller nudge ratio, then the smaller
        γ. None when the run has no nudged system or no results yet."""
        for kind in ("nudged", "fast"):
            rows = [self.average_row(s) for s in self.systems if s.kind == kind]
            rows = [r for r in rows if r.accuracy is not None and r.gamma is not None]
            if rows:
                best = min(rows, key=lambda r: (-round(r.accuracy or 0.0, 12), round(r.nudge_ratio or 0.0, 12),
                                                r.gamma))
                return best.gamma
        return None

    # -- results.json ---------------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        """results.json. Everything except ``timing`` follows from the settings and the answers;
        ``timing`` holds wall-clock figures (seconds, tokens/s, when it ran)."""
        results: dict[str, dict[str, Any]] = {}
        timing: dict[str, dict[str, Any]] = {}
        for s in self.systems:
            for r in [self.row(t, s) for t in self.tasks] + [self.average_row(s)]:
                recs = [rec for t in (self.tasks if r.task == AVERAGE else [r.task]) for rec in self.records(t, s)]
                results.setdefault(r.task, {})[s.key] = _row_dict(r, recs)
                timing.setdefault(r.task, {})[s.key] = {"seconds": round(sum(float(x["seconds"]) for x in recs), 3),
                                                        "tokens_per_second": _round(r.tokens_per_second, 2)}
        config = {k: v for k, v in self.config.items() if k != "started"}
        return {
            "format": FORMAT, "partial": self.partial, "done": self.done, "total": self.total,
            "config": config, "results": results,
            "comparisons": [_comparison_dict(c) for c in self.comparisons()],
            "best_gamma": self.best_gamma(),
            "timing": {"started": self.config.get("started"), "systems": timing},
        }


def _rate(recs: Sequence[dict[str, Any]]) -> float | None:
    seconds = sum(float(r["seconds"]) for r in recs)
    return sum(int(r["tokens"]) for r in recs) / seconds if seconds > 0 else None


def _round(x: float | None, digits: int = 6) -> float | None:
    return None if x is None else round(x, digits)


def _row_dict(r: TableRow, recs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"accuracy": _round(r.accuracy), "stderr": _round(r.stderr), "n": r.n,
            "correct": sum(1 for x in recs if x["acc"]), "unreadable": r.unreadable,
            "nudge_ratio": _round(r.nudge_ratio), "tokens": sum(int(x["tokens"]) for x in recs)}


def _comparison_dict(c: Comparison) -> dict[str, Any]:
    d = asdict(c)
    d["difference"] = _round(c.difference)
    d["p_value"] = _round(c.p_value, 8)
    return d
