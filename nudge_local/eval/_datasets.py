"""The paper's datasets, read from the user's own files in each dataset's native field names.

Nothing is fetched: a task looks for ``<data dir>/<task>.jsonl`` (or ``.json``/``.parquet``, or
``<data dir>/<task>/test.jsonl`` and the like), or takes the file given with ``--data
task=FILE``. Prompts follow the reference code (``dataset_utils.py``): multiple choice as
``"{question}\\nA. ...\\nB. ..."`` with the dataset's own labels, MMLU with ``"Subject: ..."``
before the question.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nudge_local import SettingError

from ._scoring import SCORERS, gold_number
from ._tasks import QUESTION_PREFIX, Item, Task

Record = Mapping[str, Any]
EXTENSIONS = (".jsonl", ".json", ".parquet")


class DatasetError(SettingError):
    """A dataset file is missing, unreadable, or lacks the fields its task needs."""


def read_records(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL, JSON (a list, or an object holding one list) or Parquet file."""
    try:
        if path.suffix == ".parquet":
            return _read_parquet(path)
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path} is not UTF-8 text (JSON or JSONL expected).") from None
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = None  # maybe JSON lines under a .json name
        if isinstance(data, dict):
            lists = [v for v in data.values() if isinstance(v, list)]
            data = lists[0] if len(lists) == 1 else None
        if isinstance(data, list):
            return _only_objects(data, path)
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            raise DatasetError(f"{path} line {n} is not valid JSON.") from None
    return _only_objects(rows, path)


def _only_objects(rows: list[Any], path: Path) -> list[dict[str, Any]]:
    if not rows or not all(isinstance(r, dict) for r in rows):
        raise DatasetError(f"{path} must hold a list of JSON objects, one per item.")
    return rows


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise DatasetError(f"Reading {path.name} needs pyarrow: run `pip install pyarrow`, "
                           "or convert the file to JSONL.") from None
    try:
        rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    except Exception as exc:  # pyarrow raises many types for a bad file
        raise DatasetError(f"Cannot read {path} as Parquet: {exc}.") from None
    return rows


# -- native formats ----------------------------------------------------------------------------
def _field(row: Record, *names: str) -> Any:
    """The first of ``names`` present in ``row``; a dotted name reaches into a nested object."""
    for name in names:
        value: Any = row
        for part in name.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None:
            return value
    return None


def _choices_text(question: str, labels: Sequence[str], texts: Sequence[str]) -> str:
    return question + "".join(f"\n{label}. {text}" for label, text in zip(labels, texts, strict=True))


def _gsm8k(i: int, row: Record) -> Item | None:
    q, a = _field(row, "question"), _field(row, "answer")
    return Item(i, str(q).strip(), gold_number(str(a)), row) if q is not None and a is not None else None


def _svamp(i: int, row: Record) -> Item | None:
    q = _field(row, "question_concat")
    if q is None and _field(row, "Body") is not None and _field(row, "Question") is not None:
        q = f"{str(row['Body']).strip()} {str(row['Question']).strip()}"
    a = _field(row, "Answer")
    return Item(i, str(q).strip(), gold_number(str(a)), row) if q is not None and a is not None else None


def _multiarith(i: int, row: Record) -> Item | None:
    q = _field(row, "question", "sQuestion")
    a = _field(row, "final_ans", "lSolutions")
    if isinstance(a, list):
        a = a[0] if a else None
    return Item(i, str(q).strip(), gold_number(str(a)), row) if q is not None and a is not None else None


def _labelled_choices(i: int, row: Record) -> Item | None:
    """ARC and CommonsenseQA: Hugging Face layout (``choices.label``/``choices.text``) or the
    original JSONL (``question.stem``, ``question.choices[].label/text``)."""
    question = _field(row, "question.stem", "question")
    choices = _field(row, "choices", "question.choices")
    key = _field(row, "answerKey")
    if isinstance(choices, Mapping):
        labels, texts = list(choices.get("label") or []), list(choices.get("text") or [])
    elif isinstance(choices, list):
        labels = [c.get("label") for c in choices if isinstance(c, Mapping)]
        texts = [c.get("text") for c in choices if isinstance(c, Mapping)]
    else:
        return None
    if not isinstance(question, str) or key is None or not labels or len(labels) != len(texts):
        return None
    labels, texts = [str(x) for x in labels], [str(x) for x in texts]
    if str(key) not in labels:
        return None
    return Item(i, _choices_text(question.strip(), labels, texts), str(key), row,
                labels=tuple(labels), choices=tuple(texts))


def _mmlu(i: int, row: Record) -> Item | None:
    q, subject, choices, answer = (_field(row, "question"), _field(row, "subject"),
                                   _field(row, "choices"), _field(row, "answer"))
    if not isinstance(q, str) or not isinstance(choices, list) or answer is None:
        return None
    labels = [chr(65 + k) for k in range(len(choices))]
    target = labels[answer] if isinstance(answer, int) and 0 <= answer < len(labels) else str(answer)
    if target not in labels:
        return None
    # The reference puts "Subject: ..." before the question prefix, for both models.
    prefix = f"Subject: {subject}\n{QUESTION_PREFIX}" if subject else QUESTION_PREFIX
    return Item(i, _choices_text(q.strip(), labels, [str(c) for c in choices]), target, row,
                question_prefix=prefix, labels=tuple(labels), choices=tuple(str(c) for c in choices))


def _strategyqa(i: int, row: Record) -> Item | None:
    q, a = _field(row, "question"), _field(row, "answer")
    if not isinstance(q, str) or a is None:
        return None
    truth = a if isinstance(a, bool) else str(a).strip().lower() in ("true", "yes", "1")
    return Item(i, q.strip(), "yes" if truth else "no", row)


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset the paper evaluates: how to turn one native record into an item."""

    name: str
    title: str
    fields: str
    split: str
    scorer: str
    convert: Callable[[int, Record], Item | None]


DATASETS = {s.name: s for s in [
    DatasetSpec("gsm8k", "GSM8K", "question, answer (ending '#### N')", "test", "number", _gsm8k),
    DatasetSpec("svamp", "SVAMP", "question_concat (or Body and Question), Answer", "test", "number", _svamp),
    DatasetSpec("multiarith", "MultiArith", "question, final_ans (or sQuestion, lSolutions)", "test",
                "number", _multiarith),
    DatasetSpec("arc_challenge", "ARC-Challenge", "question, choices.label, choices.text, answerKey",
                "test", "choice", _labelled_choices),
    DatasetSpec("mmlu", "MMLU", "question, subject, choices, answer (0-3)", "test", "choice", _mmlu),
    DatasetSpec("csqa", "CommonsenseQA", "question, choices.label, choices.text, answerKey", "validation",
                "choice", _labelled_choices),
    DatasetSpec("strategyqa", "StrategyQA", "question, answer (true/false)", "test", "yesno", _strategyqa),
]}


def find_data_file(spec: DatasetSpec, data_dir: Path) -> Path:
    candidates = [data_dir / f"{spec.name}{ext}" for ext in EXTENSIONS]
    candidates += [data_dir / spec.name / f"{spec.split}{ext}" for ext in EXTENSIONS]
    folder = data_dir / spec.name
    if folder.is_dir():  # a Hugging Face snapshot: e.g. main/test-00000-of-00001.parquet
        candidates += sorted(p for p in folder.rglob(f"{spec.split}*") if p.suffix in EXTENSIONS)
    for path in candidates:
        if path.is_file():
            return path
    raise DatasetError(
        f"No data file for {spec.name}: put the {spec.title} {spec.split} split at "
        f"{data_dir / (spec.name + '.jsonl')} (or .json/.parquet) with fields {spec.fields}, "
        f"or pass --data {spec.name}=FILE."
    )


def dataset_task(name: str, *, data_dir: Path, data_file: Path | None = None) -> Task:
    spec = DATASETS[name]
    path = data_file if data_file is not None else find_data_file(spec, data_dir)
    if not path.is_file():
        raise DatasetError(f"The data file {path} for {name} does not exist (fields {spec.fields}).")
    rows = read_records(path)
    items = []
    for i, row in enumerate(rows):
        try:
            item = spec.convert(i, row)
        except ValueError:
            item = None
        if item is None:
            raise DatasetError(f"{path} item {i + 1} lacks the {spec.title} fields {spec.fields}.")
        items.append(item)
    return Task(name, items, SCORERS[spec.scorer], source=str(path), version="file",
                description=f"{spec.title} from {path.name}")
