"""Where nudge-local keeps things: the platform's user directories (platformdirs).

* config (``config.toml``, the user's ``models.toml``): the user config dir;
* model files (downloads, the demo pair): ``<user cache dir>/models``, or the folder named by
  the environment variable ``NUDGE_LOCAL_MODELS_DIR``;
* chat history and eval results: the user data dir.

Nothing is ever written to the current directory. This module imports nothing of ours, so any
module may use it (it used to live in ``catalog``, which made ``catalog`` and ``_pypi_models``
import each other).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "nudge-local"
MODELS_DIR_ENV = "NUDGE_LOCAL_MODELS_DIR"


def user_config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def user_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME))


def models_dir() -> Path:
    """Where downloaded and assembled model files live."""
    override = os.environ.get(MODELS_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return user_cache_dir() / "models"
