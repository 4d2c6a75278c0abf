"""Per-model llama.cpp settings and their defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

DEFAULT_N_CTX = 4096


def default_n_threads() -> int:
    """All logical cores the process may use.

    llama-cpp-python defaults to half the logical cores. nudge-local runs its two models one
    after the other, never at once, so each may use every core; on the 2-core reference
    machine 2 threads decoded faster than 1 (see README, "Threads").
    """
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        n = os.cpu_count() or 1
    return max(1, n)


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
