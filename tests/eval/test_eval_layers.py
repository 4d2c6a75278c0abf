"""The eval package sits above the public API: no engine-private imports."""

from __future__ import annotations

import ast
from pathlib import Path

import nudge_local.eval

PUBLIC_MODULES = {"nudge_local", "nudge_local.paths"}


def test_eval_imports_only_public_nudge_local_names():
    folder = Path(nudge_local.eval.__file__).parent
    for path in [*folder.glob("*.py"), folder.parent / "cli" / "eval.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                in_eval = path.parent == folder
                if node.level == 1 and in_eval:
                    continue  # the eval package's own modules
                if node.level == 1 and not in_eval:
                    assert node.module == "_common", (path.name, node.module)  # the CLI's model loading
                    continue
                assert node.level == 0, (path.name, node.module)
                module = node.module or ""
                if module.startswith("nudge_local"):
                    assert module in PUBLIC_MODULES or module.startswith("nudge_local.eval"), (path.name, module)
                    if module == "nudge_local":
                        assert {a.name for a in node.names} <= set(nudge_local.__all__), path.name
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("nudge_local._"), (path.name, alias.name)
