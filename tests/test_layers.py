"""The layer contract, checked over the import graph (docs: shared/docs/architecture.md).

* The user-facing layers - the CLI, the chat UI, the server, eval - use only the public API:
  ``nudge_local`` itself and its public modules (no ``nudge_local._private`` module, no
  private name), plus their own package's modules.
* The engine never imports the UI, the server, eval or the CLI, nor their libraries.

A change that breaks either rule fails here (and so in CI).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "nudge_local"
UPPER = {
    "cli": ENGINE / "cli",
    "server": ENGINE / "server",
    "eval": ENGINE / "eval",
    "tui": ROOT / "tui" / "nudge_local_tui",
}
UPPER_PACKAGES = {"nudge_local.cli", "nudge_local.server", "nudge_local.eval", "nudge_local_tui"}
UI_LIBRARIES = {"textual", "fastapi", "uvicorn", "starlette", "matplotlib", "rich"}


def _module_name(path: Path) -> str:
    base = ROOT / "tui" if path.is_relative_to(ROOT / "tui") else ROOT
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, absolute module, imported names) of every import in a file."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((node.lineno, target, [a.name for a in node.names]))
    return out


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _own_package(module: str) -> str:
    for package in UPPER_PACKAGES:
        if module == package or module.startswith(package + "."):
            return package
    return ""


def _violations_of_upper_layers() -> list[str]:
    bad = []
    for layer, folder in UPPER.items():
        for path in _files(folder):
            own = _own_package(_module_name(path))
            for line, target, names in _imports(path):
                if not (target == "nudge_local" or target.startswith("nudge_local.")):
                    continue
                if own and (target == own or target.startswith(own + ".")):
                    continue  # the layer's own modules
                private = [p for p in target.split(".")[1:] if p.startswith("_")]
                private_names = [n for n in names if n.startswith("_") and n != "__version__"]
                if target == "nudge_local" and private_names:
                    private += private_names
                # `from nudge_local import _x` names a private module too
                if private:
                    bad.append(f"{path.relative_to(ROOT)}:{line} ({layer}) imports private {target} {names}")
    return bad


def _violations_of_the_engine() -> list[str]:
    bad = []
    for path in _files(ENGINE):
        module = _module_name(path)
        if _own_package(module) or module == "nudge_local.__main__":
            continue  # an upper layer, or `python -m nudge_local` (the CLI's entry point)
        for line, target, _ in _imports(path):
            top = target.split(".")[0]
            if _own_package(target) or top in UI_LIBRARIES:
                bad.append(f"{path.relative_to(ROOT)}:{line} (engine) imports {target}")
    return bad


def test_upper_layers_use_only_the_public_api():
    assert _violations_of_upper_layers() == []


def test_the_engine_never_imports_the_layers_above_it():
    assert _violations_of_the_engine() == []


def test_the_checks_see_violations(tmp_path, monkeypatch):
    """A check that cannot fail is no check: plant one violation of each rule and see both."""
    cli = tmp_path / "nudge_local" / "cli"
    cli.mkdir(parents=True)
    (tmp_path / "nudge_local" / "__init__.py").write_text("")
    (cli / "__init__.py").write_text("")
    (cli / "bad.py").write_text("from .._rule import Controller\nfrom nudge_local import _nudger\n")
    (tmp_path / "nudge_local" / "engine_bad.py").write_text("from .cli import bad\nimport textual\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    monkeypatch.setattr(__import__(__name__), "ENGINE", tmp_path / "nudge_local")
    monkeypatch.setattr(__import__(__name__), "UPPER", {"cli": cli})
    upper = _violations_of_upper_layers()
    engine = _violations_of_the_engine()
    assert len(upper) == 2 and "nudge_local._rule" in upper[0] and "_nudger" in upper[1]
    assert len(engine) == 2 and "nudge_local.cli" in engine[0] and "textual" in engine[1]
