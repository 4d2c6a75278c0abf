"""Checks of a generation's arguments, before anything is evaluated.

Every value a caller can pass is checked here with one sentence per mistake (a
:class:`SettingError`), so that nothing malformed reaches llama.cpp or the rule: a ``nan``
temperature, a bool for ``max_tokens``, bytes for a prompt, a message list of strings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ._errors import SettingError
from ._prompts import PromptFormat

# numpy's generators take seeds in [0, 2**128); keep to what every backend accepts.
MAX_SEED = 2**63 - 1


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingError(f"{name} must be a number, got {_show(value)}.")
    if not math.isfinite(value):
        raise SettingError(f"{name} must be a finite number, got {value}.")
    return float(value)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_generation(*, gamma: object, max_tokens: object, temperature: object, top_p: object,
                     seed: object, only: object, exact: object, overlap: object,
                     prompt_format: object, stop: object, stop_at_new_turn: object) -> None:
    g = _number("gamma", gamma)
    if not 0.0 <= g <= 1.0:
        raise SettingError(f"gamma must be between 0 and 1, got {gamma}.")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens <= 0:
        raise SettingError(f"max_tokens must be a positive whole number, got {_show(max_tokens)}.")
    if _number("temperature", temperature) < 0:
        raise SettingError(f"temperature must be 0 or more, got {temperature}.")
    if not 0.0 < _number("top_p", top_p) <= 1.0:
        raise SettingError(f"top_p must be in (0, 1], got {top_p}.")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED):
        raise SettingError(f"seed must be a whole number from 0 to 2**63-1, got {_show(seed)}.")
    if only not in (None, "base", "nudging"):
        raise SettingError(f'only must be "base" or "nudging", got {_show(only)}.')
    for name, flag in (("exact", exact), ("overlap", overlap), ("stop_at_new_turn", stop_at_new_turn)):
        if flag is not None and not isinstance(flag, bool):
            raise SettingError(f"{name} must be True or False, got {_show(flag)}.")
    if exact is None:
        raise SettingError("exact must be True or False, got None.")
    if prompt_format is not None and not isinstance(prompt_format, PromptFormat):
        raise SettingError(f"prompt_format must be a PromptFormat, got {_show(prompt_format)}.")
    check_stop(stop)


def check_stop(stop: object) -> list[str]:
    if isinstance(stop, str):
        stop = [stop]
    if not isinstance(stop, Sequence) or not all(isinstance(s, str) for s in stop):
        raise SettingError("stop must be a string or a list of strings.")
    if len(stop) > 16:
        raise SettingError(f"At most 16 stop strings, got {len(stop)}.")
    return [s for s in stop if s]


def check_text(name: str, value: object, *, allow_none: bool = True) -> str | None:
    """A prompt or system text: a str that can be encoded as UTF-8 (no lone surrogates)."""
    if value is None and allow_none:
        return None
    if not isinstance(value, str):
        raise SettingError(f"{name} must be text (a str), got {_show(value)}.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise SettingError(f"{name} contains characters that are not valid Unicode (lone surrogates).") from None
    return value


def check_messages(messages: object) -> list[Mapping[str, Any]]:
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise SettingError("messages must be a list of {\"role\": ..., \"content\": ...} mappings.")
    out = []
    for m in messages:
        if not isinstance(m, Mapping):
            raise SettingError("Each message must be a mapping with a role and a text content, "
                               f"got {_show(m)}.")
        check_text("A message's content", m.get("content"), allow_none=False)
        out.append(m)
    return out
