"""The paper's datasets read from local files in their native field names, and task files."""

from __future__ import annotations

import importlib.util
import json

import pytest

from nudge_local import NudgeError
from nudge_local.eval import DatasetError, resolve_task, score


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_gsm8k_from_a_data_dir(tmp_path):
    write_jsonl(tmp_path / "gsm8k.jsonl", [
        {"question": "Natalia sold 48 clips in April and half as many in May. How many in all?",
         "answer": "In May she sold 48/2 = 24.\n48+24 = 72\n#### 72"},
        {"question": "A loss of 1,000 dollars?", "answer": "#### -1,000"},
    ])
    task = resolve_task("gsm8k", data_dir=tmp_path)
    assert [i.target for i in task.items] == ["72", "-1000"]
    assert task.items[0].question.startswith("Natalia sold")
    assert task.source == str(tmp_path / "gsm8k.jsonl")
    assert score(task.scorer, "So she sold 72 clips.", task.items[0]).correct
    assert score(task.scorer, "The loss is -1,000 dollars.", task.items[1]).correct


def test_svamp_and_multiarith_in_both_layouts(tmp_path):
    (tmp_path / "svamp.json").write_text(json.dumps([
        {"Body": "Jack had 8 pens.", "Question": "He lost 3. How many are left?", "Answer": 5.0},
        {"question_concat": "A bag has 9 balls. 4 are red. How many are not red?", "Answer": "5"},
    ]), encoding="utf-8")
    svamp = resolve_task("svamp", data_dir=tmp_path)
    assert svamp.items[0].question == "Jack had 8 pens. He lost 3. How many are left?"
    assert [i.target for i in svamp.items] == ["5", "5"]
    write_jsonl(tmp_path / "ma.jsonl", [{"question": "3 + 4?", "final_ans": "7"},
                                        {"sQuestion": "2 * 6?", "lSolutions": [12.0]}])
    multi = resolve_task("multiarith", data_files={"multiarith": tmp_path / "ma.jsonl"})
    assert [(i.question, i.target) for i in multi.items] == [("3 + 4?", "7"), ("2 * 6?", "12")]


def test_arc_keeps_its_numeric_keys_like_the_reference(tmp_path):
    write_jsonl(tmp_path / "arc_challenge.jsonl", [
        {"id": "x1", "question": "Which is a mammal?",
         "choices": {"text": ["shark", "whale", "trout", "eel"], "label": ["1", "2", "3", "4"]}, "answerKey": "2"},
        {"id": "x2", "question": {"stem": "Which is hot?", "choices": [
            {"label": "A", "text": "ice"}, {"label": "B", "text": "fire"}]}, "answerKey": "B"},
    ])
    task = resolve_task("arc_challenge", data_dir=tmp_path)
    first, second = task.items
    assert first.question == "Which is a mammal?\n1. shark\n2. whale\n3. trout\n4. eel"
    assert (first.target, first.labels) == ("2", ("1", "2", "3", "4"))
    assert score(task.scorer, "Whales breathe air, so the answer is 2.", first).correct
    assert second.question == "Which is hot?\nA. ice\nB. fire" and second.target == "B"


def test_mmlu_puts_the_subject_before_the_question(tmp_path):
    write_jsonl(tmp_path / "mmlu.jsonl", [{"question": "2 + 2 = ?", "subject": "elementary_mathematics",
                                           "choices": ["3", "4", "5", "22"], "answer": 1}])
    (it,) = resolve_task("mmlu", data_dir=tmp_path).items
    assert it.question_prefix == "Subject: elementary_mathematics\nQuestion: "
    assert it.question == "2 + 2 = ?\nA. 3\nB. 4\nC. 5\nD. 22"
    assert it.target == "B"


def test_csqa_and_strategyqa(tmp_path):
    (tmp_path / "csqa").mkdir()
    write_jsonl(tmp_path / "csqa" / "validation.jsonl", [{
        "id": "c1", "question": "Where do fish live?", "question_concept": "fish",
        "choices": {"label": ["A", "B", "C", "D", "E"], "text": ["tree", "water", "sky", "desk", "car"]},
        "answerKey": "B"}])
    (it,) = resolve_task("csqa", data_dir=tmp_path).items
    assert it.target == "B" and it.labels == ("A", "B", "C", "D", "E")
    (tmp_path / "strategyqa.json").write_text(json.dumps({"examples": [
        {"qid": "q1", "question": "Can a fish climb a tree?", "answer": False},
        {"qid": "q2", "question": "Is water wet?", "answer": True}]}), encoding="utf-8")
    task = resolve_task("strategyqa", data_dir=tmp_path)
    assert [i.target for i in task.items] == ["no", "yes"]
    assert score(task.scorer, "No, fish cannot climb.", task.items[0]).correct


def test_a_missing_dataset_names_the_file_and_fields(tmp_path):
    with pytest.raises(DatasetError) as err:
        resolve_task("gsm8k", data_dir=tmp_path)
    message = str(err.value)
    assert str(tmp_path / "gsm8k.jsonl") in message
    assert "question, answer (ending '#### N')" in message and "--data gsm8k=FILE" in message
    assert message.count(".") >= 1 and "\n" not in message


def test_records_missing_fields_or_bad_json_are_clear_errors(tmp_path):
    write_jsonl(tmp_path / "gsm8k.jsonl", [{"question": "q", "answer": "#### 1"}, {"q": "x"}])
    with pytest.raises(DatasetError, match=r"item 2 lacks the GSM8K fields question, answer"):
        resolve_task("gsm8k", data_dir=tmp_path)
    (tmp_path / "svamp.jsonl").write_text('{"Body": 1}\n{not json\n', encoding="utf-8")
    with pytest.raises(DatasetError, match="line 2 is not valid JSON"):
        resolve_task("svamp", data_dir=tmp_path)


def test_parquet_needs_pyarrow(tmp_path):
    (tmp_path / "gsm8k.parquet").write_bytes(b"PAR1 not really")
    if importlib.util.find_spec("pyarrow") is None:
        with pytest.raises(DatasetError, match="needs pyarrow: run `pip install pyarrow`"):
            resolve_task("gsm8k", data_dir=tmp_path)
    else:
        with pytest.raises(DatasetError, match="Cannot read .* as Parquet"):
            resolve_task("gsm8k", data_dir=tmp_path)


LM_EVAL_STYLE_TOML = r'''
task = "my_gsm8k"
dataset_path = "json"
dataset_kwargs = { data_files = { test = "data.jsonl" } }
test_split = "test"
doc_to_text = "{{question}}"
doc_to_target = "{{answer}}"

[[filter_list]]
name = "flexible-extract"
[[filter_list.filter]]
function = "regex"
regex_pattern = '(-?[$0-9.,]{2,})|(-?[0-9]+)'
group_select = -1
[[filter_list.filter]]
function = "take_first"

[[metric_list]]
metric = "exact_match"
ignore_case = true
ignore_punctuation = false
regexes_to_ignore = [',', '\$', '(?s).*#### ', '\.$']
'''


def test_an_lm_eval_style_task_file_loads_and_scores(tmp_path):
    write_jsonl(tmp_path / "data.jsonl", [{"question": "How many?", "answer": "Some work.\n#### 1,200"}])
    (tmp_path / "t.toml").write_text(LM_EVAL_STYLE_TOML, encoding="utf-8")
    task = resolve_task(str(tmp_path / "t.toml"))
    (it,) = task.items
    assert task.name == "my_gsm8k" and it.question == "How many?"
    assert score(task.scorer, "First 3, then 1,200.", it).correct       # last match, commas ignored
    assert not score(task.scorer, "It is 1,300.", it).correct
    got = score(task.scorer, "no numbers", it)
    assert got.answer is None and not got.correct                      # lm-eval's "[invalid]"


def test_yaml_task_file_with_choices(tmp_path):
    pytest.importorskip("yaml")
    write_jsonl(tmp_path / "mc.jsonl", [{"q": "Sky colour?", "opts": ["green", "blue"], "gold": 1}])
    (tmp_path / "mc.yaml").write_text(
        "task: colours\ndata_files: mc.jsonl\ndoc_to_text: '{{q}}'\ndoc_to_choice: opts\ndoc_to_target: gold\n",
        encoding="utf-8")
    task = resolve_task(str(tmp_path / "mc.yaml"))
    (it,) = task.items
    assert it.question == "Sky colour?\nA. green\nB. blue" and it.target == "B"
    assert score(task.scorer, "The answer is (B).", it).correct


def test_task_file_python_hooks_and_missing_data_are_refused(tmp_path):
    pytest.importorskip("yaml")
    (tmp_path / "hook.yaml").write_text("task: x\ndoc_to_text: !function utils.doc_to_text\n", encoding="utf-8")
    with pytest.raises(NudgeError, match=r"uses a Python hook \(!function\)"):
        resolve_task(str(tmp_path / "hook.yaml"))
    (tmp_path / "nodata.toml").write_text('task = "x"\ndoc_to_text = "{{q}}"\n', encoding="utf-8")
    with pytest.raises(NudgeError, match="names no local data"):
        resolve_task(str(tmp_path / "nodata.toml"))
