"""Typed errors. Each carries one sentence a user can act on; the CLI prints it and exits 2."""

from __future__ import annotations


class NudgeError(Exception):
    """Base class of every error nudge-local raises on purpose."""


class ModelFileError(NudgeError):
    """A model file is missing, unreadable, or not a GGUF file llama.cpp can load."""


class ChatTemplateError(NudgeError):
    """The nudging model has no usable chat template (pass one with ``chat_template=``)."""


class ContextOverflowError(NudgeError):
    """The prompt does not fit in a model's context window."""


class SettingError(NudgeError, ValueError):
    """A setting is out of range (gamma outside [0, 1], max_tokens <= 0, ...)."""


class CatalogError(NudgeError):
    """An unknown model or pair name, or a malformed models.toml."""


class ModelNotInstalledError(CatalogError):
    """A catalog model is known but its file is not on this machine."""


class ModelClosedError(NudgeError):
    """The models were closed (``Nudger.close()``); load them again to generate."""


class BusyError(NudgeError):
    """A generation asked of a Nudger that is already running one in the same thread."""


class GenerationError(NudgeError):
    """A generation failed part-way (a remote server went away, say). ``partial`` holds the
    answer as far as it got (a ``NudgeResult`` with ``stop_reason == "interrupted"``)."""

    partial: object = None


class RemoteError(GenerationError):
    """A remote model's server could not be reached or answered wrongly."""
