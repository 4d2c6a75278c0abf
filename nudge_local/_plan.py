"""Thread plans: how two local models share the machine's cores, chosen by measurement.

Two plans are possible on a CPU:

* ``overlap`` - half the cores each, the models computing side by side (the nudging model
  follows the base's text and drafts on a second thread while the base works);
* ``turns`` - every core for whichever model is computing, one model at a time.

Which is faster depends on the machine and the pair (how much faster a model gets with more
threads, how the two share memory bandwidth), so it is measured: :func:`calibrate` runs a short
nudged generation under each plan, and checks the fastest one for fragility - llama.cpp's
threads wait for each other, so a plan that uses every core can collapse when one core is busy
elsewhere (measured here: 27 → 235 ms per token). Each model now watches for that and falls
back to one thread while it lasts (``_contention``), which keeps ``turns`` at 58-67% of its
idle speed with a core busy instead of under 40%; a plan that still loses more than half its
speed with one core taken while the other plan keeps up is set aside. The result is kept per
machine and pair (``calibration_path()``) and re-measured by ``nudge-local tune``.

On a CPU a small model's decoding is bound by memory bandwidth more than by cores: two models
evaluating side by side on a core each get less done than one after the other on both cores
(measured on the demo pair, held-out prompts: overlap 58.8 s, turns 45.5 s). A third plan that
lent the cores back and forth evaluation by evaluation ran in between (57-59 s) and was dropped.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from .paths import user_cache_dir

PlanName = Literal["overlap", "turns"]
#: Pins the plan (skips calibration): "overlap" or "turns".
PLAN_ENV = "NUDGE_LOCAL_THREAD_PLAN"
#: A plan that keeps less than this share of its speed with one core busy is fragile...
FRAGILE_KEEPS = 0.5
#: ...unless the other plan does no better under the same load.
_FRAGILE_MARGIN = 1.2


@dataclass(frozen=True)
class ThreadPlan:
    """How many threads each model gets and whether they compute side by side."""

    name: PlanName
    base_threads: int
    nudging_threads: int
    overlap: bool

    def describe(self) -> str:
        if self.overlap:
            return f"overlap: {self.base_threads}+{self.nudging_threads} threads, side by side"
        return f"take turns: {self.base_threads} threads each"


def candidate_plans(cores: int) -> list[ThreadPlan]:
    """The plans worth considering on ``cores`` cores (overlap needs at least two)."""
    turns = ThreadPlan("turns", cores, cores, False)
    if cores < 2:
        return [turns]
    nudging = cores // 2
    return [ThreadPlan("overlap", cores - nudging, nudging, True), turns]


def plan_named(name: str, cores: int) -> ThreadPlan:
    for plan in candidate_plans(cores):
        if plan.name == name:
            return plan
    return candidate_plans(cores)[-1]


@dataclass
class Calibration:
    """What :func:`calibrate` measured and chose."""

    chosen: PlanName
    #: tokens/s of the short nudged generation under each plan, idle
    idle: dict[str, float]
    #: tokens/s with one core busy elsewhere (only measured when it decides something)
    busy: dict[str, float]
    reason: str
    measured_at: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Measure = Callable[[ThreadPlan], float]


def choose_plan(plans: list[ThreadPlan], measure: Measure, measure_busy: Measure | None) -> Calibration:
    """Measure each plan (best of two, alternating, so a passing slowdown hits both), take the
    fastest; if it is fragile under a busy core and another plan is not, take that one."""
    idle: dict[str, float] = {str(p.name): 0.0 for p in plans}
    for _ in range(2):
        for plan in plans:
            idle[plan.name] = max(idle[plan.name], measure(plan))
    ranked = sorted(plans, key=lambda p: idle[p.name], reverse=True)
    best = ranked[0]
    if len(ranked) == 1 or measure_busy is None:
        return Calibration(best.name, idle, {}, "fastest idle", time.time())
    busy: dict[str, float] = {str(p.name): measure_busy(p) for p in ranked[:2]}
    keeps = busy[best.name] / idle[best.name] if idle[best.name] else 1.0
    other = ranked[1]
    if keeps < FRAGILE_KEEPS and busy[other.name] > busy[best.name] * _FRAGILE_MARGIN:
        reason = (f"{best.name} was fastest idle but kept {keeps:.0%} of its speed with a core busy; "
                  f"{other.name} is robust")
        return Calibration(other.name, idle, busy, reason, time.time())
    return Calibration(best.name, idle, busy, "fastest idle, robust with a core busy", time.time())


# -- a busy core, for the fragility check ---------------------------------------------------------
class BusyCore:
    """A child process spinning on one core for as long as the ``with`` block lasts."""

    def __enter__(self) -> BusyCore:
        self._proc = subprocess.Popen([sys.executable, "-c", "while True: pass"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.2)  # let it get scheduled
        return self

    def __exit__(self, *exc: object) -> None:
        self._proc.kill()
        self._proc.wait()


# -- where calibrations are kept -------------------------------------------------------------------
def calibration_path() -> Path:
    return user_cache_dir() / "thread-plans.json"


def machine_key(model_files: list[tuple[str, int]], cores: int, build: str) -> str:
    """A calibration holds for one machine (CPU, cores), one llama.cpp build and one pair."""
    cpu = _cpu_model()
    text = json.dumps([platform.machine(), cpu, cores, build, model_files])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def load_calibration(key: str) -> Calibration | None:
    try:
        data = json.loads(calibration_path().read_text(encoding="utf-8"))
        entry = data[key]
        return Calibration(entry["chosen"], dict(entry["idle"]), dict(entry.get("busy", {})),
                           str(entry.get("reason", "")), float(entry.get("measured_at", 0)))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_calibration(key: str, calibration: Calibration) -> None:
    """Best effort: a read-only cache dir only costs a calibration next time."""
    path = calibration_path()
    try:
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                data = {}
        except (OSError, ValueError):
            data = {}
        data[key] = calibration.as_dict()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def pinned_plan(env: Mapping[str, str] = os.environ) -> PlanName | None:
    value = env.get(PLAN_ENV, "").strip().lower()
    return value if value in ("overlap", "turns") else None  # type: ignore[return-value]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
