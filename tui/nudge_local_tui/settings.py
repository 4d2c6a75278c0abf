"""What the next reply is generated with (the controls panel edits one of these)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Any

MODES = ("nudged", "base", "nudging")
MODE_LABELS = {"nudged": "nudged", "base": "base model only", "nudging": "nudging model only"}
GAMMA_STEP = 0.05
#: How the nudging model's words are shown (ctrl+t goes round them).
MARKS_LOOKS = ("underline", "subtle", "off")
MARKS_LABELS = {"underline": "underlined", "subtle": "subtle background", "off": "off"}


class InvalidSetting(ValueError):
    """A control holds a value outside its range; the message is one sentence for the user."""


@dataclass(frozen=True)
class GenerationSettings:
    """What the next reply is generated with; ``system`` "" means the engine's default."""

    gamma: float = 0.4
    max_tokens: int = 256
    temperature: float = 0.0
    system: str = ""
    mode: str = "nudged"

    def validated(self) -> GenerationSettings:
        if not 0.0 <= self.gamma <= 1.0:
            raise InvalidSetting(f"Gamma must be between 0 and 1, not {self.gamma}.")
        if not 1 <= self.max_tokens <= 32768:
            raise InvalidSetting(f"Max tokens must be between 1 and 32768, not {self.max_tokens}.")
        if not 0.0 <= self.temperature <= 5.0:
            raise InvalidSetting(f"Temperature must be between 0 and 5, not {self.temperature}.")
        if self.mode not in MODES:
            raise InvalidSetting(f"Mode must be one of {', '.join(MODES)}, not {self.mode!r}.")
        return self

    def step_gamma(self, delta: float) -> GenerationSettings:
        # Round so that repeated steps land on 0.05 multiples, not 0.30000000000000004.
        return replace(self, gamma=round(min(1.0, max(0.0, self.gamma + delta)), 2))

    def stream_kwargs(self, mode: str | None = None) -> dict[str, Any]:
        """Keyword arguments for ``Nudger.stream`` (``mode`` overrides, for compare)."""
        mode = mode or self.mode
        return {
            "gamma": self.gamma,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "system": self.system or None,
            "only": None if mode == "nudged" else mode,
        }

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | None) -> GenerationSettings:
        """Saved settings, or the defaults if there are none or they no longer validate."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
            known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
            return cls(**known).validated()
        except (ValueError, TypeError):
            return cls()
