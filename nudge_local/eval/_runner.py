"""Running an evaluation: every planned (task, system, item), each answer saved as it ends."""

from __future__ import annotations

import platform
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import nudge_local
from nudge_local import ContextOverflowError, NudgeResult, PromptFormat, SettingError

from ._plan import (
    DEFAULT_SYSTEMS,
    PAPER_LIMIT,
    PAPER_SEED,
    Kind,
    System,
    expand_systems,
    parse_gammas,
    parse_systems,
    sample_indices,
)
from ._registry import resolve_tasks
from ._report import FORMAT, EvalReport
from ._store import (
    CONFIG,
    RESULTS,
    SAMPLES,
    SampleLog,
    default_out_dir,
    file_sha256,
    keys_of,
    prepare_run_folder,
    read_json,
    write_json,
)
from ._tasks import REASONING_SYSTEM, Item, Task, prompt_hash, score, sha256_text


@dataclass(frozen=True)
class Progress:
    """Where a run is, for a progress bar: ``done``/``total`` of the current system on the
    current task, and of the whole run; ETAs in seconds (None until one item has finished)."""

    task: str
    system: str
    done: int
    total: int
    eta_seconds: float | None
    run_done: int
    run_total: int
    run_eta_seconds: float | None


ProgressCallback = Callable[[Progress], None]


def run_eval(
    nudger: nudge_local.Nudger,
    tasks: Sequence[str | Task],
    *,
    gammas: Sequence[float] | str | None = None,
    systems: Sequence[Kind] | str = DEFAULT_SYSTEMS,
    limit: int | None = PAPER_LIMIT,
    seed: int = PAPER_SEED,
    max_tokens: int = 512,
    out_dir: str | Path | None = None,
    resume: bool = False,
    system_prompt: str = REASONING_SYSTEM,
    data_dir: str | Path | None = None,
    data_files: Mapping[str, str | Path] | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    plot: bool = True,
) -> EvalReport:
    """Evaluate ``nudger`` on ``tasks`` (names or :class:`Task` objects) and return the report.

    Results go to ``out_dir`` (default: ``<user data dir>/eval/<pair>/<timestamp>``): each
    answer is appended to samples.jsonl as it finishes; results.json and the plot are written
    at the end. ``resume=True`` continues the run in ``out_dir``, skipping finished items.
    Setting ``cancel`` stops after (or within) the current item and returns a partial report;
    a KeyboardInterrupt does the same, then is raised again.
    """
    plan = _plan(nudger, tasks, gammas, systems, limit, seed, max_tokens, data_dir, data_files)
    units, chosen = plan.units, plan.tasks
    config = build_config(nudger, chosen, units, plan.indices, plan.gammas, limit, seed, max_tokens, system_prompt)
    if resume and out_dir is None:
        raise SettingError("Resuming needs the folder of the run to continue (--out DIR).")
    out = Path(out_dir).expanduser() if out_dir is not None else default_out_dir(config["pair"]["label"])
    prepare_run_folder(out, config, resume=resume)  # on resume the first start's config.json stays
    log = SampleLog(out / SAMPLES)
    done = keys_of(log.load())
    runner = _Runner(nudger, log, system_prompt, max_tokens, progress, cancel)
    runner.run_total = len(units) * sum(len(i) for i in plan.indices.values())
    for unit in units:
        left = sum(1 for t in chosen for i in plan.indices[t.name] if (t.name, i, unit.key) not in done)
        runner.left[unit.kind] = runner.left.get(unit.kind, 0) + left
    runner.run_done = runner.run_total - sum(runner.left.values())
    try:
        for task in chosen:
            for unit in units:
                todo = [task.items[i] for i in plan.indices[task.name] if (task.name, i, unit.key) not in done]
                if not runner.run_batch(task, unit, todo, len(plan.indices[task.name])):
                    break
            if runner.stopped:
                break
    except KeyboardInterrupt:
        log.close()
        finish(load_results(out), plot=plot)
        raise
    finally:
        log.close()
    return finish(load_results(out), plot=plot)


@dataclass
class _Plan:
    tasks: list[Task]
    units: list[System]
    indices: dict[str, list[int]]
    gammas: tuple[float, ...]


def _plan(nudger: nudge_local.Nudger, tasks: Sequence[str | Task], gammas: Sequence[float] | str | None,
          systems: Sequence[Kind] | str, limit: int | None, seed: int, max_tokens: int,
          data_dir: str | Path | None, data_files: Mapping[str, str | Path] | None) -> _Plan:
    if not isinstance(max_tokens, int) or max_tokens <= 0:
        raise SettingError("max_tokens must be a positive whole number.")
    kinds = parse_systems(systems)
    gamma_values = parse_gammas(gammas) if gammas is not None else (float(nudger.default_gamma),)
    chosen = resolve_tasks(tasks, data_dir=Path(data_dir).expanduser() if data_dir else None,
                           data_files={k: Path(v) for k, v in (data_files or {}).items()})
    indices = {t.name: sample_indices(len(t.items), limit, seed) for t in chosen}
    return _Plan(chosen, expand_systems(kinds, gamma_values), indices, gamma_values)


def load_results(path: str | Path) -> EvalReport:
    """The report of a run folder (or of its results.json), finished or partial, recomputed
    from config.json and samples.jsonl."""
    p = Path(path).expanduser()
    folder = p.parent if p.is_file() else p
    if not (folder / CONFIG).is_file():
        raise SettingError(f"{folder} is not an eval run folder (it has no {CONFIG}).")
    return EvalReport(read_json(folder / CONFIG), SampleLog(folder / SAMPLES).load(), folder)


def finish(report: EvalReport, *, plot: bool = True) -> EvalReport:
    """Write results.json (and the plot) for a run's current samples."""
    assert report.path is not None
    results = report.as_dict()
    results["timing"]["written"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    write_json(report.path / RESULTS, results)
    if plot:
        from ._plot import write_plot

        report.plot_note = write_plot(report)
    return report


class _Runner:
    def __init__(self, nudger: nudge_local.Nudger, log: SampleLog, system_prompt: str, max_tokens: int,
                 progress: ProgressCallback | None, cancel: threading.Event | None):
        self.nudger, self.log, self.system_prompt, self.max_tokens = nudger, log, system_prompt, max_tokens
        self.progress, self.cancel = progress, cancel
        self.stopped = False
        self.run_done = self.run_total = 0
        self.seconds: dict[str, list[float]] = {}  # per system kind, this session
        self.left: dict[str, int] = {}  # answers still to do, per system kind

    def run_batch(self, task: Task, unit: System, todo: list[Item], size: int) -> bool:
        """Answer ``todo`` (the items of ``task`` not yet done by ``unit``); False when stopped."""
        done, spent = size - len(todo), list[float]()
        self._report(task, unit, done, size, spent)
        for item in todo:
            if self.cancel is not None and self.cancel.is_set():
                self.stopped = True
                break
            t0 = time.perf_counter()
            record = self._answer(task, unit, item)
            if record is None:  # cancelled mid-answer: the item runs again on resume
                self.stopped = True
                break
            self.log.append(record)
            spent.append(time.perf_counter() - t0)
            self.seconds.setdefault(unit.kind, []).append(spent[-1])
            done += 1
            self.run_done += 1
            self.left[unit.kind] -= 1
            self._report(task, unit, done, size, spent)
        self.log.sync()
        return not self.stopped

    def _answer(self, task: Task, unit: System, item: Item) -> dict[str, Any] | None:
        fmt = PromptFormat(question_prefix=item.question_prefix)
        try:
            stream = self.nudger.stream(item.question, system=self.system_prompt, max_tokens=self.max_tokens,
                                        temperature=0.0, prompt_format=fmt, **unit.generate_kwargs())
        except ContextOverflowError as exc:
            return sample_record(task, item, unit, None, self.system_prompt, self.max_tokens, error=str(exc))
        try:
            for _ in stream:
                if self.cancel is not None and self.cancel.is_set():
                    stream.cancel()
        finally:
            stream.close()
        result = stream.result
        if result is None or result.stop_reason == "cancelled":
            return None
        return sample_record(task, item, unit, result, self.system_prompt, self.max_tokens)

    def _report(self, task: Task, unit: System, done: int, size: int, spent: list[float]) -> None:
        if self.progress is None:
            return
        per_item = sum(spent) / len(spent) if spent else None
        eta = per_item * (size - done) if per_item is not None else None
        run_eta = self._run_eta()
        self.progress(Progress(task.name, unit.label, done, size, eta, self.run_done, self.run_total, run_eta))


    def _run_eta(self) -> float | None:
        """Answers left of each kind times that kind's mean time so far (a kind not seen yet:
        the mean of all kinds)."""
        known = [s for v in self.seconds.values() for s in v]
        if not known:
            return None
        overall = sum(known) / len(known)
        return sum(n * (sum(self.seconds[k]) / len(self.seconds[k]) if self.seconds.get(k) else overall)
                   for k, n in self.left.items())


def sample_record(task: Task, item: Item, unit: System, result: NudgeResult | None, system_prompt: str,
                  max_tokens: int, error: str | None = None) -> dict[str, Any]:
    """One line of samples.jsonl, in lm-evaluation-harness's --log_samples names (doc_id, doc,
    target, arguments, resps, filtered_resps, doc_hash, prompt_hash, target_hash, acc) plus
    ours (system, gamma, nudge_ratio, tokens, seconds, stop_reason, spans, readable)."""
    text = result.text if result is not None else ""
    scored = score(task.scorer, text, item)
    base_prompt = f"{system_prompt}\n{item.question_prefix}{item.question}\n"
    gen = {"max_tokens": max_tokens, "temperature": 0.0, **unit.generate_kwargs()}
    record: dict[str, Any] = {
        "task": task.name, "doc_id": item.doc_id, "system": unit.kind, "gamma": unit.gamma,
        "system_key": unit.key, "doc": dict(item.doc), "target": item.target,
        "arguments": {"gen_args_0": {"arg_0": base_prompt, "arg_1": gen}},
        "doc_hash": item.doc_hash, "prompt_hash": prompt_hash(system_prompt, item),
        "target_hash": sha256_text(item.target),
        "resps": [[text]], "filtered_resps": [scored.answer if scored.answer is not None else "[invalid]"],
        "acc": int(scored.correct), "readable": scored.answer is not None,
        "nudge_ratio": round(result.nudge_ratio, 6) if result is not None else 0.0,
        "tokens": result.stats.output_tokens if result is not None else 0,
        "seconds": round(result.stats.seconds, 4) if result is not None else 0.0,
        "stop_reason": result.stop_reason if result is not None else "error",
        "spans": [{"text": s.text, "source": s.source} for s in result.spans] if result is not None else [],
    }
    if error is not None:
        record["error"] = error
    return record


def build_config(nudger: nudge_local.Nudger, tasks: Sequence[Task], units: Sequence[System],
                 indices: Mapping[str, list[int]], gammas: Sequence[float], limit: int | None, seed: int,
                 max_tokens: int, system_prompt: str) -> dict[str, Any]:
    info = nudger.info
    return {
        "format": FORMAT,
        "pair": {"label": info.label, "name": info.name, "default_gamma": info.gamma,
                 "base": _model(info.base), "nudging": _model(info.nudging)},
        "tasks": [{**t.describe(), "indices": list(indices[t.name])} for t in tasks],
        "systems": [u.key for u in units],
        "gammas": list(gammas),
        "limit": limit, "seed": seed, "max_tokens": max_tokens, "system_prompt": system_prompt,
        "generation": {"temperature": 0.0, "question_prefix": "Question: ", "answer_start": ""},
        "versions": _versions(),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _model(m: nudge_local.ModelInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"name": m.name, "engine": m.engine, "path": m.path, "file_bytes": m.file_bytes,
                           "architecture": m.architecture, "quantization": m.quantization, "n_ctx": m.n_ctx}
    if m.url:
        out["url"] = m.url
    out["sha256"] = file_sha256(m.path) if m.path and Path(m.path).is_file() else None
    return out


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        llama = version("llama-cpp-python")
    except PackageNotFoundError:
        llama = None
    return {"nudge-local": nudge_local.__version__, "llama-cpp-python": llama,
            "python": platform.python_version()}
