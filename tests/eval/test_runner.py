"""run_eval on the scripted fake pair: what each system answers, the files, resume, cancel."""

from __future__ import annotations

import json
import threading

import pytest
from fake_pair import answers_for, make_eval_nudger, standard_pair

from nudge_local import SettingError
from nudge_local.eval import last_results, load_results, resolve_tasks, run_eval, text_chart

TASKS = ["arithmetic", "coin_flip"]


@pytest.fixture(scope="module")
def tasks():
    return resolve_tasks(TASKS)


def texts(report, key):
    return {(r["task"], r["doc_id"]): r["resps"][0][0] for r in report.samples if r["system_key"] == key}


def test_gamma_zero_gives_the_base_answers_and_gamma_one_the_nudging_models(tasks, tmp_path):
    with standard_pair(tasks) as n:
        report = run_eval(n, tasks, gammas=[0.0, 1.0], systems="base,nudging,fast,nudged", limit=4,
                          out_dir=tmp_path / "run", plot=False)
    base, nudging = texts(report, "base"), texts(report, "nudging")
    assert base != nudging
    # γ = 0: the base is always confident, so after the nudging model's first word (the rule
    # always keeps it; here both models start with "The") the base writes everything.
    assert texts(report, "fast@0") == base
    # γ = 1: the base (top-1 probability 0.9 < 1) is never confident; it still writes a token
    # where the nudging model's next word starts with it (agreement), which leaves the text as
    # the nudging model would have written it.
    assert texts(report, "fast@1") == nudging
    assert texts(report, "nudged@1") == nudging
    ratios = {r["system_key"]: r["nudge_ratio"] for r in report.samples}
    assert 0 < ratios["fast@1"] < 1  # the agreeing words count as the base's
    # The reference rule (exact) appends a whole 16-token draft when the nudging model ends
    # within it: these one-line answers are the nudging model's at every γ, even γ = 0.
    assert texts(report, "nudged@0") == nudging


def test_gamma_zero_still_keeps_the_nudging_models_first_word(tasks, tmp_path):
    base = {q: "Sure," + a[3:] for q, a in answers_for(tasks, lambda it: True).items()}      # "Sure, answer is 8."
    nudging = {q: "Well," + a[3:] for q, a in answers_for(tasks, lambda it: False).items()}  # "Well, answer is 9."
    with make_eval_nudger(base, nudging, lenient_base=True) as n:
        report = run_eval(n, ["arithmetic"], gammas=[0.0], systems="base,fast", limit=3, out_dir=tmp_path / "r",
                          plot=False)
    alone = texts(report, "base")
    for r in report.samples:
        if r["system_key"] == "fast@0":
            assert r["spans"][0] == {"text": "Well,", "source": "nudging"}
            assert r["resps"][0][0] == "Well," + alone[(r["task"], r["doc_id"])][len("Sure,"):]
            assert r["acc"] == 1  # same answer as the base's, one word different


def test_report_numbers_match_the_samples_file(tasks, tmp_path):
    out = tmp_path / "run"
    with standard_pair(tasks) as n:
        report = run_eval(n, tasks, gammas=[0.4], systems="base,nudging,fast", limit=6, out_dir=out, plot=False)
    results = json.loads((out / "results.json").read_text())
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 2 * 6 * 3 and results["done"] == results["total"] == 36 and not results["partial"]
    for task in TASKS:
        for key in ("base", "nudging", "fast@0.4"):
            mine = [s for s in samples if s["task"] == task and s["system_key"] == key]
            got = results["results"][task][key]
            assert got["n"] == len(mine) == 6
            assert got["correct"] == sum(s["acc"] for s in mine)
            assert got["accuracy"] == pytest.approx(sum(s["acc"] for s in mine) / 6, abs=1e-6)
            assert got["nudge_ratio"] == pytest.approx(sum(s["nudge_ratio"] for s in mine) / 6, abs=1e-6)
            assert got["unreadable"] == sum(1 for s in mine if not s["readable"])
    # The scripted pair's accuracies are known: base right on even doc ids, nudging on multiples of 3.
    for task in report.tasks:
        ids = report.config["tasks"][report.tasks.index(task)]["indices"]
        assert results["results"][task]["base"]["correct"] == sum(1 for i in ids if i % 2 == 0)
        assert results["results"][task]["nudging"]["correct"] == sum(1 for i in ids if i % 3 == 0)
    # McNemar from the samples: fast@0.4 (= base here) against nudging, pooled over tasks.
    comp = next(c for c in results["comparisons"] if c["task"] == "average" and c["versus"] == "nudging")
    b = sum(1 for s in samples if s["system_key"] == "base" and s["acc"]
            and not next(t for t in samples if t["system_key"] == "nudging" and (t["task"], t["doc_id"]) ==
                         (s["task"], s["doc_id"]))["acc"])
    assert comp["only_system"] == b


def test_samples_use_lm_eval_field_names(tasks, tmp_path):
    with standard_pair(tasks) as n:
        report = run_eval(n, ["coin_flip"], gammas=[0.4], systems="fast", limit=1, out_dir=tmp_path / "r",
                          plot=False)
    (s,) = report.samples
    for field in ("doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "doc_hash", "prompt_hash",
                  "target_hash", "acc", "system", "gamma", "nudge_ratio", "tokens", "seconds", "stop_reason"):
        assert field in s
    assert s["arguments"]["gen_args_0"]["arg_0"].startswith(
        "Answer the question by walking through the reasoning steps.\nQuestion: A coin is heads up.")
    assert s["filtered_resps"] == [s["resps"][0][0].split()[-1].rstrip(".")]
    assert s["stop_reason"] == "nudging_eos" and s["gamma"] == 0.4


def test_resume_skips_finished_items_and_repairs_a_cut_last_line(tasks, tmp_path):
    out = tmp_path / "run"
    cancel = threading.Event()
    seen = []

    def progress(p):
        seen.append(p)
        if p.run_done == 5:
            cancel.set()

    with standard_pair(tasks) as n:
        partial = run_eval(n, tasks, gammas=[0.4], limit=4, out_dir=out, progress=progress, cancel=cancel, plot=False)
        assert partial.partial and partial.done == 5
        assert json.loads((out / "results.json").read_text())["partial"] is True
        with open(out / "samples.jsonl", "a") as f:
            f.write('{"task": "arithmetic", "doc_id"')  # what a kill during a write leaves
        calls_before = n.base.evaluate_calls + n.base.push_calls
        full = run_eval(n, tasks, gammas=[0.4], limit=4, out_dir=out, resume=True, plot=False)
        assert not full.partial and full.done == full.total == 2 * 4 * 3
        assert n.base.evaluate_calls + n.base.push_calls > calls_before
    lines = (out / "samples.jsonl").read_text().splitlines()
    assert len(lines) == 24 and all(json.loads(line) for line in lines)
    assert len({(r["task"], r["doc_id"], r["system_key"]) for r in map(json.loads, lines)}) == 24
    assert seen[-1].eta_seconds is not None and seen[-1].run_total == 24


def test_resume_refuses_other_settings_and_a_new_run_refuses_an_old_folder(tasks, tmp_path):
    out = tmp_path / "run"
    with standard_pair(tasks) as n:
        run_eval(n, ["coin_flip"], gammas=[0.4], systems="base", limit=2, out_dir=out, plot=False)
        with pytest.raises(SettingError, match="used a different limit"):
            run_eval(n, ["coin_flip"], gammas=[0.4], systems="base", limit=3, out_dir=out, resume=True)
        with pytest.raises(SettingError, match="already holds an eval run; add --resume"):
            run_eval(n, ["coin_flip"], gammas=[0.4], systems="base", limit=2, out_dir=out)
        with pytest.raises(SettingError, match="no eval run to resume"):
            run_eval(n, ["coin_flip"], systems="base", limit=2, out_dir=tmp_path / "none", resume=True)
        with pytest.raises(SettingError, match="Each γ must be between 0 and 1"):
            run_eval(n, ["coin_flip"], gammas=[1.5], out_dir=tmp_path / "x")


def test_last_results_best_gamma_and_rows_for_the_ui(tasks):
    assert last_results("fake-base + fake-nudging") is None
    with standard_pair(tasks) as n:
        first = run_eval(n, tasks, gammas=[0.4, 1.0], systems="base,nudging,fast", limit=4, plot=False)
        second = run_eval(n, tasks, gammas=[0.0, 1.0], systems="base,nudging,fast", limit=4, plot=False)
    assert first.path != second.path
    latest = last_results(n.info.label)
    assert latest is not None and latest.path == second.path
    # γ = 0 gives the base's answers (right on even ids), γ = 1 the nudging model's: 0 wins.
    assert latest.best_gamma() == 0.0
    rows = latest.table_rows()
    assert [(r.task, r.system) for r in rows[:5]] == [("arithmetic", s) for s in
                                                      ("base", "nudging", "fast γ=0", "fast γ=1")] + [
        ("coin_flip", "base")]
    assert rows[-1].task == "average" and rows[-1].n == 8
    assert all(0.0 <= (r.accuracy or 0.0) <= 1.0 for r in rows)
    assert "γ=0    fast" in text_chart(latest)
    assert load_results(latest.path / "results.json").as_dict()["results"] == latest.as_dict()["results"]


def test_best_gamma_ties_go_to_the_lower_nudge_ratio(tasks, tmp_path):
    same = answers_for(tasks, lambda it: True)
    with make_eval_nudger(same, same) as n:
        report = run_eval(n, ["coin_flip"], gammas=[1.0, 0.0], systems="fast", limit=4, out_dir=tmp_path / "r",
                          plot=False)
    rows = {r.gamma: r for r in report.table_rows()}
    assert rows[0.0].accuracy == rows[1.0].accuracy == 1.0
    assert rows[0.0].nudge_ratio < rows[1.0].nudge_ratio
    assert report.best_gamma() == 0.0
