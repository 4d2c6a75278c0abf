"""Where a pair's two models come from: GGUF paths or remote specs, and their settings."""

from __future__ import annotations

import os
from typing import Protocol, runtime_checkable

from ._backend import Backend
from ._settings import ModelSettings
from ._text_model import TextModel

Model = Backend | TextModel


@runtime_checkable
class RemoteSpec(Protocol):
    """Anything that opens a model behind an HTTP API (``nudge_local.RemoteModel``)."""

    @property
    def name(self) -> str: ...

    def open(self) -> TextModel: ...


ModelSource = str | os.PathLike[str] | RemoteSpec


def open_model(source: ModelSource, settings: ModelSettings, verbose: bool) -> Model:
    if isinstance(source, (str, os.PathLike)):
        from ._llama import LlamaCppBackend

        return LlamaCppBackend(source, settings, verbose=verbose)
    return source.open()


def name_of(source: ModelSource) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.path.basename(source)
    return source.name or "remote"


def count_tokens_of(model: Model, text: str, *, special: bool) -> int:
    if isinstance(model, Backend):
        return len(model.tokenize(text, special=special, add_bos=model.bos_id is not None))
    return model.count_tokens(text)


def n_ctx_of(model: Model) -> int:
    return model.n_ctx if isinstance(model, Backend) else model.description.n_ctx


def configured(model_name: str | None) -> ModelSettings:
    """Settings from the user's config file (its [defaults], then the model's own section)."""
    from .config import resolve_settings

    return resolve_settings(model_name, {})[0]
