"""Measuring thread plans on a loaded pair (``Nudger.tune``, ``nudge-local tune``)."""

from __future__ import annotations

import logging
import os
import time
from importlib import metadata
from typing import TYPE_CHECKING

from ._backend import Backend
from ._plan import (
    BusyCore,
    Calibration,
    ThreadPlan,
    candidate_plans,
    choose_plan,
    load_calibration,
    machine_key,
    pinned_plan,
    plan_named,
    save_calibration,
)
from ._settings import available_cores

if TYPE_CHECKING:
    from ._nudger import Nudger

log = logging.getLogger("nudge_local.engine")

#: The calibration's generation: short, greedy, nudged, in the engine's default mode.
_PROMPT = "Give two tips for sleeping better."
_TOKENS = 40


def pair_key(nudger: Nudger) -> str:
    files = []
    for model in (nudger.base, nudger.nudging):
        assert isinstance(model, Backend)
        path = model.path or ""
        try:
            size = os.path.getsize(path) if path else 0
        except OSError:
            size = 0
        files.append((os.path.basename(path), size))
    engine = nudger.base.engine if isinstance(nudger.base, Backend) else "remote"
    try:
        build = f"{engine} {metadata.version('llama-cpp-python')}"
    except metadata.PackageNotFoundError:
        build = engine
    return machine_key(files, available_cores(), build)


def initial_plan(nudger: Nudger, calibrate: bool) -> None:
    """The plan a freshly loaded pair starts with: pinned by the environment, else measured
    earlier on this machine, else measured now (``calibrate``), else overlap."""
    cores = available_cores()
    pinned = pinned_plan()
    if pinned is not None:
        nudger.use_plan(plan_named(pinned, cores))
        return
    stored = load_calibration(pair_key(nudger))
    if stored is not None:
        nudger.calibration = stored
        nudger.use_plan(plan_named(stored.chosen, cores))
        return
    if calibrate and len(candidate_plans(cores)) > 1:
        log.info("Measuring how the two models share this machine's cores (once per machine and pair)...")
        tune(nudger, busy_check=True, save=True)
        return
    nudger.use_plan(candidate_plans(cores)[0])


def tune(nudger: Nudger, *, busy_check: bool, save: bool) -> Calibration:
    cores = available_cores()
    plans = candidate_plans(cores)
    nudger.use_plan(plans[0])
    nudger.generate(_PROMPT, max_tokens=8)  # warm-up: page the weights in

    def measure(plan: ThreadPlan) -> float:
        nudger.use_plan(plan)
        t0 = time.perf_counter()
        result = nudger.generate(_PROMPT, max_tokens=_TOKENS)
        return result.stats.output_tokens / max(time.perf_counter() - t0, 1e-9)

    def measure_busy(plan: ThreadPlan) -> float:
        with BusyCore():
            return measure(plan)

    calibration = choose_plan(plans, measure, measure_busy if busy_check and cores >= 2 else None)
    nudger.use_plan(plan_named(calibration.chosen, cores))
    nudger.calibration = calibration
    if save:
        save_calibration(pair_key(nudger), calibration)
    log.info("Thread plan: %s (%s).", calibration.chosen, calibration.reason)
    return calibration
