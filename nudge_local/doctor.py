"""Facts about this machine and the installed models: llama.cpp build, GPU offload, threads,
memory each present pair would need at its configured context against the machine's RAM."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._errors import NudgeError
from ._settings import available_cores, default_n_threads


@dataclass
class ModelMemory:
    name: str
    weights: int
    kv_cache: int
    n_ctx: int


@dataclass
class PairMemory:
    pair: str
    models: list[ModelMemory]
    #: Why the estimate could not be made (a model file unreadable, ...), else None.
    error: str | None = None

    @property
    def total(self) -> int:
        return sum(m.weights + m.kv_cache for m in self.models)


@dataclass
class Report:
    llama_cpp_version: str
    system_info: str
    gpu_offload: bool
    default_threads: int
    ram_total: int | None
    ram_available: int | None
    pairs_present: list[str]
    pairs_missing: list[str]
    memory: list[PairMemory] = field(default_factory=list)
    #: (label, probe result) of each remote model: the catalog's remote entries, then any
    #: server named on the command line (``nudge-local doctor --base-url URL``)
    remote: list[tuple[str, Any]] = field(default_factory=list)


def machine_memory() -> tuple[int | None, int | None]:
    """(total, available) bytes of RAM, from /proc/meminfo or sysconf; None where unknown."""
    try:
        with open("/proc/meminfo") as f:
            info = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in f if "kB" in line}
        return info.get("MemTotal"), info.get("MemAvailable")
    except OSError:
        pass
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = None
    return total, None


def pair_memory(catalog: Any, pair_name: str) -> PairMemory:
    from ._gguf_meta import kv_cache_bytes, read_metadata
    from ._remote_catalog import remote_url
    from .catalog import locate_model
    from .config import resolve_settings

    models = []
    try:
        for entry in catalog.pair_models(pair_name):
            if remote_url(entry) is not None:
                continue  # on a server: its memory is the server's business (probed below)
            path = locate_model(entry)
            settings, _ = resolve_settings(entry.name, {})
            kv = kv_cache_bytes(read_metadata(path), settings.n_ctx)
            models.append(ModelMemory(entry.name, path.stat().st_size, kv, settings.n_ctx))
    except (NudgeError, OSError) as e:
        return PairMemory(pair_name, models, error=str(e))
    return PairMemory(pair_name, models)


@dataclass(frozen=True)
class RemoteTarget:
    """A server to probe: how it is called in the report, and what to ask it."""

    label: str
    url: str
    model: str | None = None
    api_key: str | None = None
    role: str | None = None


def remote_targets(catalog: Any) -> list[RemoteTarget]:
    """The catalog's remote model entries (a key named by api_key_env is read now)."""
    from ._remote_catalog import remote_url

    out = []
    for entry in catalog.models.values():
        url = remote_url(entry)
        if url is None:
            continue
        env = getattr(entry, "api_key_env", None)
        out.append(RemoteTarget(f"model {entry.name}", url, getattr(entry, "model", None),
                                os.environ.get(env) if env else None,
                                "base" if entry.role == "base" else "nudging"))
    return out


def probe_remote(targets: Sequence[RemoteTarget], timeout: float = 10.0) -> list[tuple[str, Any]]:
    """The start-up probe (``nudge_local.remote.probe``) on each target, in order."""
    from .remote import probe

    return [(t.label, probe(t.url, t.model, t.api_key, role=t.role, timeout=timeout))  # type: ignore[arg-type]
            for t in targets]


def collect(extra_remote: Sequence[RemoteTarget] = ()) -> Report:
    import llama_cpp

    from .catalog import load_catalog, model_status

    catalog = load_catalog()
    present: list[str] = []
    missing: list[str] = []
    for pair in catalog.pairs.values():
        states = [model_status(m).state for m in catalog.pair_models(pair.name)]
        (present if all(s == "present" for s in states) else missing).append(pair.name)
    total, available = machine_memory()
    info = llama_cpp.llama_print_system_info()
    return Report(
        llama_cpp_version=getattr(llama_cpp, "__version__", "unknown"),
        system_info=info.decode("utf-8", "replace").strip() if isinstance(info, bytes) else str(info).strip(),
        gpu_offload=bool(llama_cpp.llama_supports_gpu_offload()),
        default_threads=default_n_threads(),
        ram_total=total,
        ram_available=available,
        pairs_present=present,
        pairs_missing=missing,
        memory=[pair_memory(catalog, name) for name in present],
        remote=probe_remote([*remote_targets(catalog), *extra_remote]),
    )


def format_report(r: Report) -> str:
    gb = _gb
    lines = [
        f"llama-cpp-python: {r.llama_cpp_version}",
        f"llama.cpp system info: {r.system_info}",
        "GPU offload: supported" if r.gpu_offload else
        "GPU offload: not supported by this llama.cpp build (CPU only; see the README to "
        "install a CUDA or Metal build)",
        f"Default threads: {r.default_threads} per model (half the {available_cores()} cores this process may use)",
        f"RAM: {gb(r.ram_total)} total" + (f", {gb(r.ram_available)} available"
                                           if r.ram_available is not None else ""),
        f"Pairs present: {', '.join(r.pairs_present) or 'none'}",
        f"Pairs not downloaded: {', '.join(r.pairs_missing) or 'none'}",
    ]
    for pm in r.memory:
        lines.append(f"Memory estimate for {pm.pair}:")
        if pm.error:
            lines.append(f"  could not estimate: {pm.error}")
            continue
        for m in pm.models:
            lines.append(f"  {m.name}: weights {gb(m.weights)} + KV cache {gb(m.kv_cache)} "
                         f"(n_ctx {m.n_ctx}, f16)")
        verdict = ""
        if r.ram_total:
            share = pm.total / r.ram_total
            verdict = (f" = {share:.0%} of RAM" + (" — does not fit; lower n_ctx or pick a "
                       "smaller quantization" if pm.total > r.ram_total else ""))
        lines.append(f"  total {gb(pm.total)}{verdict} (plus llama.cpp's compute buffers, "
                     "typically a few hundred MB)")
    if r.remote:
        lines.append("Remote models (probe: GET /v1/models, one 1-token completion with logprobs):")
        for label, result in r.remote:
            lines.append(f"  {label} at {result.url}: {'ok, ' if result.ok else ''}{result.summary}")
    return "\n".join(lines)


def _gb(n: int | None) -> str:
    if n is None:
        return "unknown"
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"
