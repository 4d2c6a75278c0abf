"""Per-model llama.cpp settings and their defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from ._errors import SettingError

DEFAULT_N_CTX = 4096
#: llama.cpp pads smaller contexts up to 256 tokens; asking for less would be silently ignored.
MIN_N_CTX = 256
#: llama.cpp counts positions in int32.
MAX_N_CTX = 2**31 - 1


def _whole(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingError(f"{name} must be a whole number, got {value!r}.")


def available_cores() -> int:
    """Logical cores this process may run on."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        n = os.cpu_count() or 1
    return max(1, n)


def default_n_threads() -> int:
    """Half the logical cores (at least 1) for each model — llama-cpp-python's own default,
    kept after measuring (README, "Threads"): llama.cpp's threads spin-wait for each other, so
    a model given every core slows down several-fold as soon as anything else wants a core
    (the chat UI's own thread, the other model, a browser). With half each, the two models can
    also run side by side (``_overlap``)."""
    return max(1, available_cores() // 2)


def gpu_offload_supported() -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


@dataclass(frozen=True)
class ModelSettings:
    """How one model is loaded. ``None`` means "the default": ``n_threads`` -> half the cores
    (see :func:`default_n_threads`), ``n_gpu_layers`` -> every layer when this llama.cpp build
    can offload, else 0."""

    n_ctx: int = DEFAULT_N_CTX
    n_threads: int | None = None
    n_gpu_layers: int | None = None

    def check(self) -> ModelSettings:
        """Refuse, in one sentence, what llama.cpp or this machine cannot do (llama.cpp would
        assert, throw ``std::bad_alloc`` or silently round instead)."""
        _whole("n_ctx", self.n_ctx)
        if not MIN_N_CTX <= self.n_ctx <= MAX_N_CTX:
            raise SettingError(f"n_ctx must be between {MIN_N_CTX} and {MAX_N_CTX:,} tokens, got {self.n_ctx}.")
        if self.n_threads is not None:
            _whole("n_threads", self.n_threads)
            cores = available_cores()
            if not 1 <= self.n_threads <= cores:
                raise SettingError(
                    f"n_threads must be between 1 and the {cores} cores this process may use, got "
                    f"{self.n_threads} (llama.cpp's threads wait for each other: more threads than "
                    "cores slow it down many times)."
                )
        if self.n_gpu_layers is not None:
            _whole("n_gpu_layers", self.n_gpu_layers)
            if self.n_gpu_layers < -1:
                raise SettingError(f"n_gpu_layers must be -1 (all) or more, got {self.n_gpu_layers}.")
        return self

    def resolved(self) -> ModelSettings:
        return replace(
            self,
            n_threads=self.n_threads if self.n_threads is not None else default_n_threads(),
            n_gpu_layers=(
                self.n_gpu_layers
                if self.n_gpu_layers is not None
                else (-1 if gpu_offload_supported() else 0)
            ),
        )
