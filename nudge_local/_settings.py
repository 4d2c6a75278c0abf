"""Per-model llama.cpp settings and their defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

DEFAULT_N_CTX = 4096


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
    """How one model is loaded. ``None`` means "the default": ``n_threads`` -> all cores,
    ``n_gpu_layers`` -> every layer when this llama.cpp build can offload, else 0."""

    n_ctx: int = DEFAULT_N_CTX
    n_threads: int | None = None
    n_gpu_layers: int | None = None

    def resolved(self) -> "ModelSettings":
        return replace(
            self,
            n_threads=self.n_threads if self.n_threads is not None else default_n_threads(),
            n_gpu_layers=(
                self.n_gpu_layers
                if self.n_gpu_layers is not None
                else (-1 if gpu_offload_supported() else 0)
            ),
        )
