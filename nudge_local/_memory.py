"""Memory arithmetic from GGUF metadata: what a model's KV cache costs at a context size."""

from __future__ import annotations

import resource
import sys
from collections.abc import Mapping


def kv_cache_bytes(metadata: Mapping[str, object], n_ctx: int, bytes_per_value: int = 2) -> int | None:
    """Bytes of an f16 K+V cache holding ``n_ctx`` tokens for every layer (a full-size cache,
    as nudge-local creates it), or None when the metadata lacks the shapes."""
    arch = str(metadata.get("general.architecture", ""))

    def num(key: str) -> int | None:
        value = metadata.get(f"{arch}.{key}")
        if isinstance(value, (list, tuple)):  # one value per layer: the largest bounds the cache
            value = max(value) if value else None
        try:
            return int(value) if isinstance(value, (int, float, str)) else None
        except (TypeError, ValueError):
            return None

    layers = num("block_count")
    heads = num("attention.head_count")
    heads_kv = num("attention.head_count_kv") or heads
    embd = num("embedding_length")
    if not layers or not heads_kv:
        return None
    key_len = num("attention.key_length") or (embd // heads if embd and heads else None)
    value_len = num("attention.value_length") or key_len
    if not key_len or not value_len:
        return None
    return layers * n_ctx * heads_kv * (key_len + value_len) * bytes_per_value


def peak_rss_bytes() -> int:
    """This process's peak resident set size."""
    peak = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return peak if sys.platform == "darwin" else peak * 1024


def available_memory_bytes() -> int | None:
    """Memory the kernel says can be allocated without swapping (Linux ``MemAvailable``);
    None where that is not known."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None
