"""``nudge-local models``: the catalog's pairs and whether their files are on this machine.

Names and descriptions can come from the user's models.toml: the table prints them through
``printable`` (no raw control characters reach the terminal); ``--json`` escapes them anyway.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..catalog import Catalog, ModelStatus


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "models",
        help="list the model pairs in the catalog and whether their files are present",
        description="List the catalog's pairs (base, nudging model, gamma) and whether each "
        "model file is on this machine.",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..catalog import load_catalog, model_status, printable

    catalog = load_catalog()
    status = {name: model_status(m) for name, m in catalog.models.items()}
    if args.json:
        print(json.dumps(_as_json(catalog, status), indent=2))
        return 0
    for pair in catalog.pairs.values():
        print(printable(f"{pair.name}  (gamma {pair.gamma:g})"))
        print(printable(f"  {pair.description}"))
        for role, name in (("base", pair.base), ("nudging", pair.nudging)):
            m, st = catalog.model(name), status[name]
            print(printable(f"  {role:<8} {name:<24} {m.quantization:<7} {_state(st, m.size)}"))
        print()
    print("Get a pair with: nudge-local download PAIR")
    return 0


def _state(st: ModelStatus, expected: int) -> str:
    if st.state == "present":
        where = {"pypi": "from PyPI", "hub": "downloaded", "path": "local file"}.get(st.source or "", "")
        return f"present, {_gb(st.size_on_disk)} ({where})"
    if st.state == "partial":
        return f"partial, {_gb(st.size_on_disk)} of {_gb(expected)} (run download to resume)"
    return f"missing ({_gb(expected)})"


def _gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"


def _as_json(catalog: Catalog, status: dict[str, ModelStatus]) -> dict[str, Any]:
    def model(name: str) -> dict[str, Any]:
        m, st = catalog.model(name), status[name]
        return {
            "name": name, "role": m.role, "repo": m.repo, "file": m.file, "size": m.size,
            "quantization": m.quantization, "license": m.license, "sha256": m.sha256,
            "pypi": m.pypi, "pypi_version": m.pypi_version, "state": st.state, "source": st.source,
            "size_on_disk": st.size_on_disk, "path": str(st.path) if st.path else None,
        }

    return {
        "pairs": [
            {"name": p.name, "gamma": p.gamma, "description": p.description,
             "base": model(p.base), "nudging": model(p.nudging)}
            for p in catalog.pairs.values()
        ],
        "catalog_files": catalog.sources,
    }
