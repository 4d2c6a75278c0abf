"""Where results live and how they are written so that a killed run loses at most one item.

A run folder holds ``config.json`` (written once, at the start), ``samples.jsonl`` (one line
per item and system, appended and flushed as each finishes), ``results.json`` and
``accuracy_vs_gamma.png`` (written at the end, and again on resume). The default folder is
``<user data dir>/eval/<pair label>/<timestamp>``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from nudge_local import SettingError
from nudge_local.paths import user_data_dir

CONFIG = "config.json"
SAMPLES = "samples.jsonl"
RESULTS = "results.json"
PLOT = "accuracy_vs_gamma.png"
HASH_CACHE = "model-hashes.json"
# fsync at most this often (and at the end of each batch): a flushed line already survives
# kill -9; fsync only matters if the machine itself goes down.
FSYNC_SECONDS = 2.0


def results_root() -> Path:
    return user_data_dir() / "eval"


def safe_label(label: str) -> str:
    """A pair label as a folder name ("demo", "gemma-3-27b.gguf + llama.gguf" -> ...)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("._") or "pair"


def default_out_dir(label: str, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    folder = results_root() / safe_label(label)
    out, n = folder / stamp, 1
    while out.exists():
        n += 1
        out = folder / f"{stamp}-{n}"
    return out


def run_folders(label: str) -> list[Path]:
    """Run folders of a pair under the default root, newest first (names are timestamps)."""
    folder = results_root() / safe_label(label)
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if (p / CONFIG).is_file()), key=lambda p: p.name, reverse=True)


def write_json(path: Path, data: Any) -> None:
    """Write through a temporary file and rename, so a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SettingError(f"Cannot read {path}: {exc}.") from None


class SampleLog:
    """samples.jsonl: one JSON object per line, appended as items finish."""

    def __init__(self, path: Path):
        self.path = path
        self._file: Any = None
        self._synced = time.monotonic()

    def load(self) -> list[dict[str, Any]]:
        """Every complete line. A last line cut by a kill is dropped from the file (its item
        runs again)."""
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        records, good_end = [], 0
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break
            try:
                records.append(json.loads(line))
            except (json.JSONDecodeError, UnicodeDecodeError):
                break
            good_end += len(line)
        if good_end != len(data):
            with open(self.path, "r+b") as f:
                f.truncate(good_end)
        return records

    def append(self, record: dict[str, Any]) -> None:
        if self._file is None:
            self._file = open(self.path, "a", encoding="utf-8")
        self._file.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self._file.flush()
        if time.monotonic() - self._synced >= FSYNC_SECONDS:
            self.sync()

    def sync(self) -> None:
        if self._file is not None:
            os.fsync(self._file.fileno())
        self._synced = time.monotonic()

    def close(self) -> None:
        if self._file is not None:
            self.sync()
            self._file.close()
            self._file = None


def prepare_run_folder(out: Path, config: dict[str, Any], *, resume: bool) -> None:
    """Create a new run folder, or check that the one being resumed ran the same settings."""
    config_path = out / CONFIG
    if resume:
        if not config_path.is_file():
            raise SettingError(f"There is no eval run to resume in {out} (no {CONFIG}).")
        saved = read_json(config_path)
        key = first_difference(comparable(saved), comparable(config))
        if key is not None:
            raise SettingError(f"The run in {out} used a different {key}; resume it with the same "
                               "settings, or start a new run with another --out.")
        return
    if config_path.exists() or (out / SAMPLES).exists():
        raise SettingError(f"{out} already holds an eval run; add --resume to continue it, or choose "
                           "another --out.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingError(f"Cannot create the results folder {out}: {exc.strerror or exc}.") from None
    write_json(config_path, config)


def comparable(config: dict[str, Any]) -> dict[str, Any]:
    """The settings that decide the answers (not when it ran, not file paths)."""
    pair = config.get("pair", {})
    models = {role: {k: v for k, v in (pair.get(role) or {}).items() if k in ("name", "sha256", "file_bytes")}
              for role in ("base", "nudging")}
    keys = ("tasks", "systems", "gammas", "limit", "seed", "max_tokens", "system_prompt", "generation")
    return {"models": models, **{k: config.get(k) for k in keys}}


_CHECK_ORDER = ("models", "limit", "seed", "max_tokens", "system_prompt", "gammas", "systems", "generation", "tasks")


def first_difference(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    """The first setting (simple ones before the lists that follow from them) that differs."""
    for key in _CHECK_ORDER:
        if a.get(key) != b.get(key):
            return {"models": "model pair", "tasks": "task list or sample"}.get(key, key.replace("_", " "))
    return None


# -- model file hashes ---------------------------------------------------------------------------
def file_sha256(path: str | os.PathLike[str], cache_dir: Path | None = None) -> str:
    """sha256 of a model file, cached by (path, size, mtime) so a second run does not read
    hundreds of MB again."""
    p = Path(path).resolve()
    st = p.stat()
    cache_file = (cache_dir or results_root()) / HASH_CACHE
    cache: dict[str, Any] = {}
    if cache_file.is_file():
        try:
            cache = json.loads(cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cache = {}
    entry = cache.get(str(p))
    if isinstance(entry, dict) and entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns:
        return str(entry["sha256"])
    digest = hashlib.sha256()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    cache[str(p)] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest.hexdigest()}
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        write_json(cache_file, cache)
    except OSError:
        pass  # a cache that cannot be written only costs time
    return digest.hexdigest()


def sample_key(record: dict[str, Any]) -> tuple[str, int, str]:
    return str(record["task"]), int(record["doc_id"]), str(record["system_key"])


def keys_of(records: Iterable[dict[str, Any]]) -> set[tuple[str, int, str]]:
    return {sample_key(r) for r in records}
