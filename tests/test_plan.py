"""Thread plans: the choice by measurement, its fragility check, where it is kept."""

from __future__ import annotations

import pytest

from nudge_local._plan import (
    PLAN_ENV,
    Calibration,
    ThreadPlan,
    calibration_path,
    candidate_plans,
    choose_plan,
    load_calibration,
    machine_key,
    pinned_plan,
    save_calibration,
)


def _timings(idle: dict[str, list[float]], busy: dict[str, float] | None = None):
    """A fake timing source: successive idle measurements per plan, one busy figure each."""
    calls: list[tuple[str, str]] = []

    def measure(plan: ThreadPlan) -> float:
        calls.append(("idle", plan.name))
        return idle[plan.name].pop(0)

    def measure_busy(plan: ThreadPlan) -> float:
        calls.append(("busy", plan.name))
        assert busy is not None
        return busy[plan.name]

    return measure, (measure_busy if busy is not None else None), calls


def test_plans_on_two_cores():
    overlap, turns = candidate_plans(2)
    assert (overlap.name, overlap.base_threads, overlap.nudging_threads, overlap.overlap) == ("overlap", 1, 1, True)
    assert (turns.name, turns.base_threads, turns.nudging_threads, turns.overlap) == ("turns", 2, 2, False)
    assert [p.name for p in candidate_plans(1)] == ["turns"]
    assert candidate_plans(7)[0].base_threads == 4 and candidate_plans(7)[0].nudging_threads == 3


@pytest.mark.parametrize("winner", ["overlap", "turns"])
def test_the_faster_plan_wins(winner):
    fast, slow = [30.0, 31.0], [20.0, 21.0]
    idle = {"overlap": fast if winner == "overlap" else slow, "turns": fast if winner == "turns" else slow}
    measure, busy, calls = _timings({k: list(v) for k, v in idle.items()}, {"overlap": 25.0, "turns": 25.0})
    c = choose_plan(candidate_plans(2), measure, busy)
    assert c.chosen == winner
    assert c.idle[winner] == 31.0  # best of two
    # alternating order: a passing slowdown of the machine hits both plans
    assert [name for kind, name in calls if kind == "idle"] == ["overlap", "turns", "overlap", "turns"]


def test_a_fragile_fast_plan_falls_back_to_the_robust_one():
    # turns is fastest idle but collapses with a core busy (keeps 20%), overlap keeps up
    measure, busy, _ = _timings({"overlap": [30.0, 30.0], "turns": [40.0, 40.0]}, {"overlap": 26.0, "turns": 8.0})
    c = choose_plan(candidate_plans(2), measure, busy)
    assert c.chosen == "overlap"
    assert "kept 20%" in c.reason and c.busy == {"turns": 8.0, "overlap": 26.0}


def test_a_slowdown_both_plans_share_is_not_fragility():
    # both lose most of their speed under load: no reason to give up the faster one
    measure, busy, _ = _timings({"overlap": [30.0, 30.0], "turns": [40.0, 40.0]}, {"overlap": 11.0, "turns": 10.0})
    assert choose_plan(candidate_plans(2), measure, busy).chosen == "turns"


def test_a_robust_fast_plan_is_kept():
    measure, busy, _ = _timings({"overlap": [30.0, 30.0], "turns": [40.0, 40.0]}, {"overlap": 26.0, "turns": 30.0})
    assert choose_plan(candidate_plans(2), measure, busy).chosen == "turns"


def test_without_the_busy_check_only_idle_speed_counts():
    measure, busy, calls = _timings({"overlap": [30.0, 30.0], "turns": [40.0, 40.0]})
    assert choose_plan(candidate_plans(2), measure, None).chosen == "turns"
    assert all(kind == "idle" for kind, _ in calls)


def test_calibrations_are_kept_per_machine_and_pair():
    key = machine_key([("base.gguf", 100), ("nudging.gguf", 50)], 2, "llama.cpp 0.3")
    other = machine_key([("base.gguf", 101), ("nudging.gguf", 50)], 2, "llama.cpp 0.3")
    assert key != other
    assert load_calibration(key) is None
    save_calibration(key, Calibration("turns", {"overlap": 1.0, "turns": 2.0}, {}, "fastest idle", 5.0))
    save_calibration(other, Calibration("overlap", {"overlap": 2.0, "turns": 1.0}, {}, "fastest idle", 6.0))
    assert load_calibration(key).chosen == "turns"
    assert load_calibration(other).chosen == "overlap"
    calibration_path().write_text("{not json")
    assert load_calibration(key) is None  # a damaged file costs a calibration, nothing more


def test_the_environment_can_pin_a_plan(monkeypatch):
    assert pinned_plan({PLAN_ENV: "turns"}) == "turns"
    assert pinned_plan({PLAN_ENV: " Overlap "}) == "overlap"
    assert pinned_plan({PLAN_ENV: "fastest"}) is None
    assert pinned_plan({}) is None


def test_a_fake_pair_takes_the_plan_it_is_given():
    from fakes import chain, make_nudger

    n = make_nudger(chain("Sure,", {" one": 0.9}), chain("", "Sure", ",", " the"))
    plan = n.use_plan("turns")
    assert (plan.base_threads, plan.overlap) == (n.base.thread_changes[-1], False)
    assert n.overlap_fits() is False
    assert n.use_plan("overlap").overlap and n.overlap_fits()


@pytest.mark.real
def test_greedy_answers_are_identical_under_every_plan(demo_nudger):
    prompts = ["What is 15 plus 27?", "Give two tips for sleeping better."]
    answers = {}
    try:
        for plan in ("overlap", "turns", "overlap"):
            demo_nudger.use_plan(plan)
            answers.setdefault(plan, []).append(
                [demo_nudger.generate(p, max_tokens=48).text for p in prompts]
                + [demo_nudger.generate(p, max_tokens=48, exact=True).text for p in prompts])
    finally:
        demo_nudger.use_plan("overlap")
    assert answers["turns"][0] == answers["overlap"][0] == answers["overlap"][1]


@pytest.mark.real
@pytest.mark.slow
def test_tune_measures_both_plans_and_keeps_the_choice(demo_nudger):
    try:
        c = demo_nudger.tune(busy_check=True, save=True)
    finally:
        demo_nudger.use_plan("overlap")
    assert set(c.idle) == {"overlap", "turns"} and all(v > 0 for v in c.idle.values())
    assert set(c.busy) == {"overlap", "turns"}
    from nudge_local._tune import pair_key

    assert load_calibration(pair_key(demo_nudger)).chosen == c.chosen
