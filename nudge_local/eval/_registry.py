"""Task names to tasks: built-in generators, the paper's datasets from files, task files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from nudge_local import SettingError
from nudge_local.paths import user_data_dir

from ._builtin import BUILTIN
from ._datasets import DATASETS, dataset_task
from ._taskfile import load_task_file
from ._tasks import Task

DEFAULT_TASKS = tuple(BUILTIN)
TASK_FILE_SUFFIXES = (".toml", ".yaml", ".yml")


def default_data_dir() -> Path:
    """Where dataset files are looked for when no ``--data-dir`` is given."""
    return user_data_dir() / "datasets"


def task_names() -> list[str]:
    return [*BUILTIN, *DATASETS]


def resolve_task(spec: str | Task, *, data_dir: Path | None = None,
                 data_files: Mapping[str, Path] | None = None) -> Task:
    """A :class:`Task` from a built-in name ("coin_flip"), a dataset name ("gsm8k", read from
    ``data_files[name]`` or ``data_dir``) or a task file path (.toml/.yaml)."""
    if isinstance(spec, Task):
        return spec
    name = spec.strip()
    files = dict(data_files or {})
    if name in BUILTIN:
        return BUILTIN[name]()
    if name in DATASETS:
        file = files.get(name)
        return dataset_task(name, data_dir=data_dir or default_data_dir(),
                            data_file=Path(file).expanduser() if file is not None else None)
    if name.endswith(TASK_FILE_SUFFIXES):
        path = Path(name).expanduser()
        if not path.is_file():
            raise SettingError(f"The task file {path} does not exist.")
        return load_task_file(path)
    raise SettingError(f"Unknown task {name!r}; known tasks: {', '.join(task_names())} "
                       "(or a task file ending in .toml or .yaml).")


def resolve_tasks(specs: Sequence[str | Task], *, data_dir: Path | None = None,
                  data_files: Mapping[str, Path] | None = None) -> list[Task]:
    tasks = [resolve_task(s, data_dir=data_dir, data_files=data_files) for s in specs]
    if not tasks:
        raise SettingError("Give at least one task.")
    names = [t.name for t in tasks]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise SettingError(f"The task {duplicate!r} is listed twice.")
    unknown = set(data_files or {}) - set(DATASETS)
    if unknown:
        raise SettingError(f"--data names {sorted(unknown)[0]!r}, which is not a dataset task "
                           f"({', '.join(DATASETS)}).")
    return tasks
