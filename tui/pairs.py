"""What the model manager shows: the catalog's pairs and whether their files are here."""

from __future__ import annotations

from dataclasses import dataclass


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


def pair_rows() -> list[PairRow]:
    from nudge_local.catalog import load_catalog, model_status

    catalog = load_catalog()
    rows = []
    for name, pair in catalog.pairs.items():
        models = catalog.pair_models(name)
        statuses = [model_status(m) for m in models]
        states = {s.state for s in statuses}
        if states == {"present"}:
            state = "present"
        elif states == {"missing"}:
            state = "missing"
        else:
            state = "partial"
        rows.append(
            PairRow(
                name=name,
                base=pair.base,
                nudging=pair.nudging,
                gamma=pair.gamma,
                description=pair.description,
                state=state,
                size_on_disk=sum(s.size_on_disk for s in statuses),
                size=sum(m.size for m in models),
            )
        )
    return rows


def pair_installed(name: str) -> bool:
    try:
        return any(row.name == name and row.state == "present" for row in pair_rows())
    except Exception:  # a broken user models.toml must not stop the app from starting
        return False


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def progress_text(p) -> str:
    """'model: 12.3 MB of 250.0 MB · 4.1 MB/s · ETA 58 s' from a DownloadProgress."""
    done = human_bytes(p.downloaded)
    total = f" of {human_bytes(p.total)}" if p.total else ""
    parts = [f"{p.model}: {p.phase}", f"{done}{total}"]
    if p.speed:
        parts.append(f"{human_bytes(p.speed)}/s")
    if p.eta_seconds is not None and p.phase == "downloading":
        parts.append(f"ETA {p.eta_seconds:.0f} s")
    return " · ".join(parts)
