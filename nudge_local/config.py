"""The user's config file: per-model llama.cpp settings (GPU layers, context, threads).

``<user config dir>/config.toml``::

    [defaults]                 # every model
    n_ctx = 4096
    [models.gemma-2-27b]       # one catalog model (quote names with dots: [models."qwen2.5-7b"])
    n_gpu_layers = 30          # split: 30 layers on the GPU, the rest on the CPU

Precedence, highest first: command line / API arguments, ``[models.NAME]``, ``[defaults]``,
nudge-local's built-in defaults.
"""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from ._errors import SettingError
from ._settings import ModelSettings
from .paths import user_config_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

SETTING_FIELDS = ("n_ctx", "n_threads", "n_gpu_layers")
_MINIMUM = {"n_ctx": 256, "n_threads": 1, "n_gpu_layers": -1}

DEFAULT_SOURCE = "default"
COMMAND_LINE_SOURCE = "command line"


class ConfigError(SettingError):
    """The config file is malformed or holds an out-of-range value."""


def config_path() -> Path:
    return user_config_dir() / "config.toml"


def load_config() -> dict[str, Any]:
    """The parsed config file ({} when there is none), validated."""
    path = config_path()
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path} is not valid TOML: {e}.") from None
    unknown = set(data) - {"defaults", "models"}
    if unknown:
        raise ConfigError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}; "
                          "use [defaults] and [models.NAME].")
    _check_table(path, "[defaults]", data.get("defaults", {}))
    models = data.get("models", {})
    if not isinstance(models, dict):
        raise ConfigError(f"{path}: [models] must hold one table per model, e.g. [models.NAME].")
    for name, table in models.items():
        _check_table(path, f"[models.{name}]", table)
    return dict(data)


def _check_table(path: Path, where: str, table: object) -> None:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {where} must be a table.")
    for key, value in table.items():
        if isinstance(value, dict):
            raise ConfigError(f"{path}: {where}.{key} looks like a model name with a dot; "
                              f"quote it: [models.\"{where[8:-1]}.{key}\"].")
        if key not in SETTING_FIELDS:
            raise ConfigError(f"{path}: {where} has unknown key {key!r}; "
                              f"known keys: {', '.join(SETTING_FIELDS)}.")
        _check_value(f"{path}: {where} {key}", key, value)


def _check_value(where: str, key: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < _MINIMUM[key]:
        raise ConfigError(f"{where} must be a whole number >= {_MINIMUM[key]}, not {value!r}.")


def resolve_settings(model_name: str | None, overrides: dict[str, Any] | None = None
                     ) -> tuple[ModelSettings, dict[str, str]]:
    """Effective settings for a catalog model (None: the [defaults] only) and each one's source.

    ``overrides`` come from the command line or API arguments; ``None`` values are ignored.
    Sources are ``"default"``, ``"config file (<path>)"`` or ``"command line"``. Values left
    ``None`` mean "automatic" (see ``ModelSettings``: half the cores; all layers on a GPU build).
    """
    data = load_config()
    file_source = f"config file ({config_path()})"
    layers = [(data.get("defaults", {}), file_source)]
    if model_name is not None:
        layers.append((data.get("models", {}).get(model_name, {}), file_source))
    values: dict[str, Any] = {}
    sources = {f: DEFAULT_SOURCE for f in SETTING_FIELDS}
    for table, source in layers:
        for key, value in table.items():
            values[key], sources[key] = value, source
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key not in SETTING_FIELDS:
            raise SettingError(f"Unknown setting {key!r}; known settings: {', '.join(SETTING_FIELDS)}.")
        _check_value(f"{key}", key, value)
        values[key], sources[key] = value, COMMAND_LINE_SOURCE
    known = {f.name for f in fields(ModelSettings)}
    return ModelSettings(**{k: v for k, v in values.items() if k in known}), sources
