"""nudge-local: a large base model nudged by a small instruction-tuned model, on llama.cpp.

The public surface is what ``__all__`` lists; modules starting with ``_`` are private.
"""

from __future__ import annotations

from ._backend import Backend, EvalCounters
from ._errors import (
    BusyError,
    CatalogError,
    ChatTemplateError,
    ContextOverflowError,
    GenerationError,
    ModelClosedError,
    ModelFileError,
    ModelNotInstalledError,
    NudgeError,
    RemoteError,
    SettingError,
)
from ._nudger import InstructBaseWarning, Nudger
from ._prompts import DEFAULT_SYSTEM, PromptFormat
from ._rule import RuleConfig
from ._settings import ModelSettings
from ._stream import NudgeStream
from ._types import ModelInfo, NudgeResult, PairInfo, Piece, Span, Stats

# `nudge_local.download(name, progress=...)` is the function; its module stays importable as
# `from nudge_local.download import DownloadError` (it is in sys.modules).
from .download import DownloadError, download  # noqa: E402  (after the types it uses)
from .remote import RemoteModel

__version__ = "0.1.0"


__all__ = [
    "Backend",
    "BusyError",
    "CatalogError",
    "ChatTemplateError",
    "ContextOverflowError",
    "DEFAULT_SYSTEM",
    "DownloadError",
    "EvalCounters",
    "GenerationError",
    "InstructBaseWarning",
    "ModelClosedError",
    "ModelFileError",
    "ModelInfo",
    "ModelNotInstalledError",
    "ModelSettings",
    "NudgeError",
    "NudgeResult",
    "NudgeStream",
    "Nudger",
    "PairInfo",
    "Piece",
    "PromptFormat",
    "RemoteError",
    "RemoteModel",
    "RuleConfig",
    "SettingError",
    "Span",
    "Stats",
    "__version__",
    "download",
]
