"""Speed against the honest yardstick: what a user would run instead, at its fastest.

``run_bench`` measures, in one run and interleaved prompt by prompt (this machine's speed moves
from minute to minute, so the rows share the same minutes):

* the base model alone, under each thread plan the engine considers (half the cores, all of
  them), and - where the pair is local - a plain llama-cpp-python greedy loop on the base file
  at the same thread counts: the fastest of all these is the denominator of every ratio;
* the nudging model alone, likewise;
* nudged (the engine's default: the paper's rule, exact) and, when asked, the lazy mode
  (``fast``: ``exact=False``), under each plan, the plan the engine chose marked as the default.

Tokens are counted in the base model's tokenizer; model loading is not measured. For the
nudged rows it also says where the time went (see :class:`Breakdown`). Peak memory is read
before the plain llama-cpp-python baseline loads its own copy of the base model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ._backend import Backend, EvalCounters
from ._memory import peak_rss_bytes
from ._nudger import Nudger
from ._plan import ThreadPlan, candidate_plans
from ._settings import available_cores

#: Short questions of the kinds the paper evaluates (arithmetic, reasoning, knowledge, instructions).
PROMPTS = [
    "What is 15 plus 27?",
    "Tom has 3 apples and buys 5 more. How many apples does he have now?",
    "What is the capital of France?",
    "Give two tips for sleeping better.",
    "Why is the sky blue?",
    "Name three primary colors.",
]
#: A second set, written after the engine was tuned on the first, to check the figures hold.
HELD_OUT = [
    "A train leaves at 3 pm and travels for 2 hours. When does it arrive?",
    "Write a haiku about autumn leaves.",
    "What does a bee collect from flowers?",
    "Explain what a prime number is.",
    "List three uses of a paperclip.",
    "If a shirt costs 20 dollars and is 25 percent off, what does it cost?",
    "Who wrote Romeo and Juliet?",
    "Describe the water cycle in two sentences.",
    "What is the opposite of generous?",
    "How many legs does a spider have?",
    "Suggest a name for a pet turtle.",
    "Why do we have seasons?",
]
PROMPT_SETS = {"default": PROMPTS, "held-out": HELD_OUT}


@dataclass
class Row:
    label: str
    mode: str  # "base", "nudging", "nudged", "fast", "llama-cpp-python"
    plan: str
    tokens: int = 0
    seconds: float = 0.0
    nudge_ratios: list[float] = field(default_factory=list)
    base_work: EvalCounters = field(default_factory=EvalCounters)
    nudging_work: EvalCounters = field(default_factory=EvalCounters)
    base_generated: int = 0
    base_discarded: int = 0
    wait_seconds: float = 0.0
    default: bool = False

    @property
    def rate(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0

    @property
    def mean_nudge_ratio(self) -> float | None:
        return sum(self.nudge_ratios) / len(self.nudge_ratios) if self.nudge_ratios else None


@dataclass
class Breakdown:
    """Where a nudged row's time went, per model: tokens decoded one at a time and in batches,
    logits rows read (and reused), seconds inside llama.cpp; the main thread's waits for the
    other thread; and the *ideal* time - the same single-token decodes at the speeds each model
    showed alone under the same plan (side by side with overlap, one after the other without)."""

    base: dict[str, float]
    nudging: dict[str, float]
    base_generated: int
    base_discarded: int
    wait_seconds: float
    python_seconds: float
    measured_seconds: float
    ideal_seconds: float


@dataclass
class BenchReport:
    pair: dict[str, Any]
    gamma: float
    max_tokens: int
    prompt_set: str
    prompts: int
    cores: int
    plan: str
    rows: list[Row]
    peak_rss_bytes: int
    model_file_bytes: int
    kv_cache_bytes: int

    def best(self, modes: Sequence[str]) -> Row:
        candidates = [r for r in self.rows if r.mode in modes]
        return max(candidates, key=lambda r: r.rate)

    @property
    def baseline(self) -> Row:
        """The base model alone at its fastest: every ratio's denominator."""
        return self.best(("base", "llama-cpp-python"))

    def ratio(self, row: Row) -> float:
        base = self.baseline.rate
        return row.rate / base if base else 0.0

    def breakdown(self, row: Row) -> Breakdown:
        plan_of = {r.plan: r for r in self.rows if r.mode == "base"}
        alone = {r.plan: r for r in self.rows if r.mode == "nudging"}
        base_sec = _seconds_per_token(plan_of.get(row.plan))
        nudging_sec = _seconds_per_token(alone.get(row.plan))
        base_ideal = row.base_work.single_tokens * base_sec
        nudging_ideal = row.nudging_work.single_tokens * nudging_sec
        overlap = row.plan == "overlap"
        ideal = max(base_ideal, nudging_ideal) if overlap else base_ideal + nudging_ideal
        in_llama = row.base_work.decode_seconds + (0.0 if overlap else row.nudging_work.decode_seconds)
        return Breakdown(
            base=row.base_work.as_dict(), nudging=row.nudging_work.as_dict(),
            base_generated=row.base_generated, base_discarded=row.base_discarded,
            wait_seconds=row.wait_seconds,
            python_seconds=max(0.0, row.seconds - in_llama - row.wait_seconds),
            measured_seconds=row.seconds, ideal_seconds=ideal,
        )

    def as_dict(self) -> dict[str, Any]:
        rows = []
        for r in self.rows:
            d = asdict(r)
            d.pop("nudge_ratios")
            d.update(tokens_per_second=round(r.rate, 2), over_best_base=round(self.ratio(r), 3),
                     mean_nudge_ratio=None if r.mean_nudge_ratio is None else round(r.mean_nudge_ratio, 4),
                     seconds=round(r.seconds, 3), base_work=r.base_work.as_dict(),
                     nudging_work=r.nudging_work.as_dict())
            if r.mode in ("nudged", "fast"):
                d["breakdown"] = asdict(self.breakdown(r))
            rows.append(d)
        files_kv = self.model_file_bytes + self.kv_cache_bytes
        return {
            "pair": self.pair, "gamma": self.gamma, "max_tokens": self.max_tokens,
            "prompt_set": self.prompt_set, "prompts": self.prompts, "cores": self.cores,
            "default_plan": self.plan, "baseline": {"label": self.baseline.label, "plan": self.baseline.plan,
                                                    "tokens_per_second": round(self.baseline.rate, 2)},
            "rows": rows,
            "peak_rss_bytes": self.peak_rss_bytes, "model_file_bytes": self.model_file_bytes,
            "kv_cache_bytes": self.kv_cache_bytes,
            "rss_over_files_plus_kv": round(self.peak_rss_bytes / files_kv, 3) if files_kv else None,
        }


def _seconds_per_token(row: Row | None) -> float:
    return row.seconds / row.tokens if row is not None and row.tokens else 0.0


def run_bench(
    nudger: Nudger,
    *,
    prompts: Sequence[str] = PROMPTS,
    prompt_set: str = "default",
    max_tokens: int = 128,
    gamma: float | None = None,
    fast: bool = False,
    plain_baseline: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> BenchReport:
    """Measure every row, prompt by prompt; see the module docstring."""
    local = isinstance(nudger.base, Backend) and isinstance(nudger.nudging, Backend)
    plans = candidate_plans(available_cores()) if local else []
    default_plan = nudger.plan
    # The plain loop needs the base as a GGUF file llama-cpp-python can open.
    plain_ok = plain_baseline and isinstance(nudger.base, Backend) and nudger.base.engine == "llama.cpp"
    rows = _rows(plans, fast, plain_ok, default_plan)
    plain = None
    try:
        _warm_up(nudger, prompts[0], max_tokens, gamma, fast)
        # The engine's memory, before the baseline loads its own copy of the base model.
        peak = peak_rss_bytes()
        plain = _PlainLoop(nudger) if plain_ok else None
        for i, prompt in enumerate(prompts, 1):
            for row in rows:
                _measure(nudger, plain, row, plans, prompt, max_tokens, gamma)
            if progress is not None:
                progress(i, len(prompts))
    finally:
        if plain is not None:
            plain.close()
        if default_plan is not None:
            nudger.use_plan(default_plan)
    info = nudger.info
    return BenchReport(
        pair={"name": info.name, "base": info.base.name, "nudging": info.nudging.name},
        gamma=nudger.default_gamma if gamma is None else gamma, max_tokens=max_tokens,
        prompt_set=prompt_set, prompts=len(prompts), cores=available_cores(),
        plan=default_plan.name if default_plan else "-", rows=rows, peak_rss_bytes=peak,
        model_file_bytes=info.base.file_bytes + info.nudging.file_bytes,
        kv_cache_bytes=(info.base.kv_cache_bytes or 0) + (info.nudging.kv_cache_bytes or 0),
    )


def _rows(plans: list[ThreadPlan], fast: bool, plain: bool, default: ThreadPlan | None) -> list[Row]:
    names: list[str] = [p.name for p in plans] or ["-"]
    rows = []
    for name in names:
        threads = _threads(plans, name)
        if plain:
            rows.append(Row(f"llama-cpp-python loop, {threads}", "llama-cpp-python", name))
        rows.append(Row(f"base alone, {threads}", "base", name))
    for name in names:
        rows.append(Row(f"nudging alone, {_threads(plans, name, nudging=True)}", "nudging", name))
    for mode in ("nudged", "fast") if fast else ("nudged",):
        for name in names:
            label = f"{mode}, {name}" + (" (default)" if default is not None and default.name == name else "")
            rows.append(Row(label, mode, name, default=default is not None and default.name == name))
    return rows


def _threads(plans: list[ThreadPlan], name: str, *, nudging: bool = False) -> str:
    for p in plans:
        if p.name == name:
            n = p.nudging_threads if nudging else p.base_threads
            return f"{n} thread" + ("s" if n != 1 else "")
    return "remote"


def _warm_up(nudger: Nudger, prompt: str, max_tokens: int, gamma: float | None, fast: bool) -> None:
    """Page both models' weights in and reach the engine's working memory (not measured)."""
    nudger.generate(prompt, max_tokens=max_tokens, gamma=gamma)
    if fast:
        nudger.generate(prompt, max_tokens=max_tokens, gamma=gamma, exact=False)


def _measure(nudger: Nudger, plain: _PlainLoop | None, row: Row, plans: list[ThreadPlan], prompt: str,
             max_tokens: int, gamma: float | None) -> None:
    plan = next((p for p in plans if p.name == row.plan), None)
    if row.mode == "llama-cpp-python":
        assert plain is not None and plan is not None
        tokens, seconds = plain.run(nudger, prompt, max_tokens, plan.base_threads)
        row.tokens += tokens
        row.seconds += seconds
        return
    if plan is not None:
        nudger.use_plan(plan)
    only = row.mode if row.mode in ("base", "nudging") else None
    r = nudger.generate(prompt, gamma=gamma, max_tokens=max_tokens, only=only,
                        exact=row.mode != "fast")
    row.tokens += r.stats.output_tokens
    row.seconds += r.stats.seconds
    if only is None:
        s = r.stats
        row.nudge_ratios.append(r.nudge_ratio)
        row.base_work = _add(row.base_work, s.base_work)
        row.nudging_work = _add(row.nudging_work, s.nudging_work)
        row.base_generated += s.base_generated_tokens
        row.base_discarded += s.base_discarded_tokens
        row.wait_seconds += s.wait_seconds


def _add(a: EvalCounters, b: EvalCounters) -> EvalCounters:
    return a.minus(EvalCounters(**{k: -v for k, v in asdict(b).items()}))


class _PlainLoop:
    """What a user would run instead: llama-cpp-python's own greedy loop on the base file."""

    def __init__(self, nudger: Nudger):
        from ._llama_load import plain_llama

        base = nudger.base
        assert isinstance(base, Backend) and base.path and base.settings is not None
        self._llm = plain_llama(base.path, base.settings.n_ctx)

    def run(self, nudger: Nudger, prompt: str, max_tokens: int, threads: int) -> tuple[int, float]:
        """Greedy decoding of the same base prompt, timed like the engine's rows (prompt
        evaluation included, loading not)."""
        from ._prompts import DEFAULT_SYSTEM, base_prompt

        text = base_prompt(DEFAULT_SYSTEM, [{"role": "user", "content": prompt}], nudger.prompt_format)
        llm = self._llm
        llm.set_threads(threads)
        tokens = llm.tokenize(text)
        t0 = time.perf_counter()
        n = 0
        for token in llm.greedy(tokens):
            if llm.is_eog(token):
                break
            n += 1
            if n >= max_tokens:
                break
        return n, time.perf_counter() - t0

    def close(self) -> None:
        self._llm.close()
