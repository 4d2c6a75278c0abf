"""What a run does: which systems (base, nudging, nudged and exact at each γ) on which items."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from nudge_local import SettingError

Kind = Literal["base", "nudging", "nudged", "fast"]
KINDS: tuple[Kind, ...] = ("base", "nudging", "nudged", "fast")
#: Names accepted for a kind (``exact`` is what ``nudged`` runs: the engine's default, the paper's rule).
ALIASES: dict[str, Kind] = {"exact": "nudged"}
DEFAULT_SYSTEMS: tuple[Kind, ...] = ("base", "nudging", "nudged")
DEFAULT_GAMMAS = (0.2, 0.3, 0.4, 0.5)
#: The reference code's NumPy seed for its 100-item samples.
PAPER_SEED = 609
PAPER_LIMIT = 100


@dataclass(frozen=True)
class System:
    """One way of answering: a model alone, or the pair nudged at ``gamma`` (``nudged``: the
    engine's default, the paper's rule; ``fast``: the lazy mode, ``exact=False``)."""

    kind: Kind
    gamma: float | None = None

    @property
    def key(self) -> str:
        """Stable ASCII name used in files: "base", "nudging", "nudged@0.4", "fast@0.4"."""
        return self.kind if self.gamma is None else f"{self.kind}@{self.gamma:g}"

    @property
    def label(self) -> str:
        return self.kind if self.gamma is None else f"{self.kind} γ={self.gamma:g}"

    def generate_kwargs(self) -> dict[str, Any]:
        if self.kind in ("base", "nudging"):
            return {"only": self.kind}
        return {"gamma": self.gamma, "exact": self.kind != "fast"}

    @classmethod
    def from_key(cls, key: str) -> System:
        kind, _, gamma = key.partition("@")
        if kind not in KINDS:
            raise ValueError(f"not a system key: {key!r}")
        return cls(kind, float(gamma) if gamma else None)


def parse_gammas(text: str | Iterable[float]) -> tuple[float, ...]:
    """"0.2,0.3" (or numbers) -> (0.2, 0.3); each in [0, 1], no repeats."""
    parts: list[Any] = [p.strip() for p in text.split(",")] if isinstance(text, str) else list(text)
    values = []
    for part in parts:
        try:
            value = float(part)
        except (TypeError, ValueError):
            raise SettingError(f"--gammas takes numbers between 0 and 1 separated by commas; "
                               f"{part!r} is not a number.") from None
        if not (0.0 <= value <= 1.0) or math.isnan(value):
            raise SettingError(f"Each γ must be between 0 and 1; got {part}.")
        values.append(value)
    if not values:
        raise SettingError("--gammas needs at least one value.")
    if len(set(values)) != len(values):
        raise SettingError("--gammas lists a value twice.")
    return tuple(values)


def parse_systems(text: str | Iterable[str]) -> tuple[Kind, ...]:
    parts = [p.strip() for p in text.split(",")] if isinstance(text, str) else [str(p) for p in text]
    out: list[Kind] = []
    for part in parts:
        part = ALIASES.get(part, part)
        if part not in KINDS:
            raise SettingError(f"Unknown system {part!r}; the systems are {', '.join(KINDS)}.")
        if part not in out:
            out.append(part)
    if not out:
        raise SettingError("--systems needs at least one of base, nudging, nudged, fast.")
    return tuple(out)


def expand_systems(kinds: Sequence[Kind], gammas: Sequence[float]) -> list[System]:
    """base and nudging once each; nudged and fast once per γ (side by side at each γ, in the
    order given)."""
    out = [System(k) for k in kinds if k in ("base", "nudging")]
    for g in gammas:
        out += [System(k, float(g)) for k in kinds if k in ("nudged", "fast")]
    return out


def sample_indices(n_items: int, limit: int | None, seed: int) -> list[int]:
    """The reference's sample: ``np.random.seed(seed); np.random.choice(n, limit,
    replace=False)`` (the legacy generator, so seed 609 draws the paper's indices from a
    dataset in the same order). No limit, or one at least ``n_items``: every item, in order."""
    if limit is None or limit >= n_items:
        return list(range(n_items))
    if limit <= 0:
        raise SettingError("--limit must be a positive number of items.")
    rng = np.random.RandomState(seed)
    return [int(i) for i in rng.choice(n_items, limit, replace=False)]
