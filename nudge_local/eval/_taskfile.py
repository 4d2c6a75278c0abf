"""A task described in a file (TOML, or YAML when PyYAML is installed), close to an
lm-evaluation-harness task config so that an existing one loads with few changes::

    task = "my_gsm8k"
    dataset_path = "json"                         # lm-eval's way of naming local files
    dataset_kwargs = { data_files = { test = "gsm8k_test.jsonl" } }   # relative to this file
    test_split = "test"
    doc_to_text = "{{question}}"                  # Jinja, as in lm-eval (or a field name)
    doc_to_target = "{{answer}}"

    [[filter_list]]                               # the first pipeline is used
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
    regexes_to_ignore = [',', '\\$']

Our own keys: ``data_files`` (a path or list of paths, instead of ``dataset_kwargs``),
``scorer`` ("number", "choice", "yesno", "date", "word", or "regex": the filters and
exact_match above, the default when ``filter_list`` or ``metric_list`` is given), and
``question_prefix``. With ``doc_to_choice`` the choices are shown as "A. ..." lines after the
question and scored by letter. Python hooks (``!function``) are not run.
"""

from __future__ import annotations

import re
import string
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ._datasets import DatasetError, read_records
from ._scoring import SCORERS
from ._tasks import QUESTION_PREFIX, Item, Scorer, Task

_ENV = ImmutableSandboxedEnvironment()
INVALID = "[invalid]"  # lm-eval's regex filter fallback


def load_task_file(path: Path) -> Task:
    config = _read_config(path)
    name = str(config.get("task") or path.stem)
    rows = _records(config, path)
    choices_spec = config.get("doc_to_choice")
    prefix = str(config.get("question_prefix", QUESTION_PREFIX))
    items = []
    for i, row in enumerate(rows):
        question = _render(config.get("doc_to_text"), row, path, "doc_to_text")
        target = config.get("doc_to_target")
        if choices_spec is not None:
            texts = _as_list(_value(choices_spec, row, path, "doc_to_choice"), path)
            labels = tuple(chr(65 + k) for k in range(len(texts)))
            gold = _choice_target(_value(target, row, path, "doc_to_target"), texts, labels, path, i)
            question += "".join(f"\n{label}. {text}" for label, text in zip(labels, texts, strict=True))
            items.append(Item(i, question, gold, row, prefix, labels, tuple(texts)))
        else:
            items.append(Item(i, question, str(_value(target, row, path, "doc_to_target")).strip(), row, prefix))
    scorer = _scorer(config, path, choices_spec is not None)
    return Task(name, items, scorer, source=str(path), version="file", description=f"task file {path.name}")


def _read_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"Cannot read the task file {path}: {exc.strerror or exc}.") from None
    if path.suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise DatasetError(f"The task file {path} is not valid TOML: {exc}.") from None
    else:
        data = _read_yaml(text, path)
    if not isinstance(data, dict):
        raise DatasetError(f"The task file {path} must be a table of settings.")
    return data


def _read_yaml(text: str, path: Path) -> Any:
    try:
        import yaml  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        raise DatasetError(f"Reading {path.name} needs PyYAML (`pip install pyyaml`), or write the "
                           "task file as TOML.") from None
    try:
        return yaml.safe_load(text)
    except yaml.constructor.ConstructorError:
        raise DatasetError(f"The task file {path} uses a Python hook (!function), which nudge-local does "
                           "not run; write doc_to_text and doc_to_target as Jinja templates.") from None
    except yaml.YAMLError as exc:
        raise DatasetError(f"The task file {path} is not valid YAML: {str(exc).splitlines()[0]}.") from None


def _records(config: Mapping[str, Any], path: Path) -> list[dict[str, Any]]:
    files: Any = config.get("data_files")
    if files is None:
        kwargs = config.get("dataset_kwargs") or {}
        files = kwargs.get("data_files") if isinstance(kwargs, Mapping) else None
    if isinstance(files, Mapping):
        split = str(config.get("test_split") or "test")
        if split not in files:
            raise DatasetError(f"The task file {path} has no data file for its test split {split!r}.")
        files = files[split]
    if files is None:
        raise DatasetError(f"The task file {path} names no local data: set data_files (nothing is "
                           "downloaded).")
    paths = [files] if isinstance(files, str) else list(files)
    rows: list[dict[str, Any]] = []
    for name in paths:
        file = (path.parent / str(name)).expanduser()
        if not file.is_file():
            raise DatasetError(f"The data file {file} named in {path.name} does not exist.")
        rows += read_records(file)
    return rows


def _value(spec: Any, row: Mapping[str, Any], path: Path, key: str) -> Any:
    """lm-eval's rules: an int is itself, a field name is that field, else a Jinja template."""
    if spec is None:
        raise DatasetError(f"The task file {path} needs {key}.")
    if isinstance(spec, (int, list)):
        return spec
    if isinstance(spec, str) and spec in row:
        return row[spec]
    text = _render(spec, row, path, key)
    if key != "doc_to_text" and re.fullmatch(r"-?\d+", text.strip()):
        return int(text)
    return text


def _render(spec: Any, row: Mapping[str, Any], path: Path, key: str) -> str:
    if spec is None:
        raise DatasetError(f"The task file {path} needs {key}.")
    if isinstance(spec, str) and spec in row:
        return str(row[spec])
    try:
        return _ENV.from_string(str(spec)).render(**row)
    except TemplateError as exc:
        raise DatasetError(f"{key} in {path} failed to render: {exc}.") from None


def _as_list(value: Any, path: Path) -> list[str]:
    if isinstance(value, str):  # a template that rendered a Python list
        import ast

        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise DatasetError(f"doc_to_choice in {path} must give a list of choices.") from None
    if not isinstance(value, list) or not value:
        raise DatasetError(f"doc_to_choice in {path} must give a list of choices.")
    return [str(v) for v in value]


def _choice_target(value: Any, texts: list[str], labels: tuple[str, ...], path: Path, i: int) -> str:
    if isinstance(value, int) and 0 <= value < len(labels):
        return labels[value]
    if str(value) in texts:
        return labels[texts.index(str(value))]
    if str(value) in labels:
        return str(value)
    raise DatasetError(f"doc_to_target of item {i + 1} in {path} is not one of its choices.")


def _scorer(config: Mapping[str, Any], path: Path, multiple_choice: bool) -> Scorer:
    name = config.get("scorer")
    if name is None:
        if config.get("filter_list") or config.get("metric_list"):
            name = "regex"
        else:
            name = "choice" if multiple_choice else "word"
    if name == "regex":
        return RegexScorer.from_config(config, path)
    if name not in SCORERS:
        raise DatasetError(f"Unknown scorer {name!r} in {path}; use one of "
                           f"{', '.join([*SCORERS, 'regex'])}.")
    return SCORERS[str(name)]


@dataclass(frozen=True)
class RegexScorer:
    """lm-eval's generate-until scoring: the first filter pipeline of ``filter_list``
    (regex with group_select, take_first, lowercase, uppercase, remove_whitespace), then
    exact_match with ignore_case / ignore_punctuation / regexes_to_ignore."""

    steps: tuple[tuple[str, str, int], ...] = ()
    ignore_case: bool = False
    ignore_punctuation: bool = False
    ignore: tuple[str, ...] = field(default_factory=tuple)
    name: str = "regex"

    @classmethod
    def from_config(cls, config: Mapping[str, Any], path: Path) -> RegexScorer:
        steps = []
        pipelines = config.get("filter_list") or []
        for f in (pipelines[0].get("filter") or []) if pipelines else []:
            fn = str(f.get("function"))
            if fn not in ("regex", "take_first", "lowercase", "uppercase", "remove_whitespace"):
                raise DatasetError(f"The filter {fn!r} in {path} is not supported (regex, take_first, "
                                   "lowercase, uppercase, remove_whitespace are).")
            pattern = str(f.get("regex_pattern", r"#### (\-?[0-9\.\,]+)"))
            try:
                re.compile(pattern)
            except re.error as exc:
                raise DatasetError(f"The regex {pattern!r} in {path} is invalid: {exc}.") from None
            steps.append((fn, pattern, int(f.get("group_select", 0))))
        metrics = config.get("metric_list") or [{}]
        m = metrics[0] if isinstance(metrics[0], Mapping) else {}
        return cls(tuple(steps), bool(m.get("ignore_case", False)), bool(m.get("ignore_punctuation", False)),
                   tuple(str(r) for r in m.get("regexes_to_ignore", [])))

    def extract(self, output: str, item: Item) -> str | None:
        text = output
        for fn, pattern, group in self.steps:
            if fn == "regex":
                text = _regex_filter(text, pattern, group)
            elif fn == "lowercase":
                text = text.lower()
            elif fn == "uppercase":
                text = text.upper()
            elif fn == "remove_whitespace":
                text = text.lstrip()
        return None if text == INVALID else text

    def matches(self, answer: str, item: Item) -> bool:
        return self._clean(answer) == self._clean(item.target)

    def _clean(self, text: str) -> str:
        for pattern in self.ignore:
            text = re.sub(pattern, "", text)
        if self.ignore_case:
            text = text.lower()
        if self.ignore_punctuation:
            text = text.translate(str.maketrans("", "", string.punctuation))
        return text.strip()


def _regex_filter(text: str, pattern: str, group_select: int) -> str:
    """lm-eval's RegexFilter: findall, pick ``group_select``; a tuple of groups gives its first
    non-empty one; no match gives "[invalid]"."""
    found = re.findall(pattern, text)
    if not found:
        return INVALID
    try:
        match = found[group_select]
    except IndexError:
        return INVALID
    if isinstance(match, tuple):
        non_empty = [m for m in match if m]
        match = non_empty[0] if non_empty else INVALID
    return str(match).strip()
