"""The layer ships the runtime package only: it never imports the development package (dev/healthscore_dev)."""

from __future__ import annotations

import ast
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[2] / "layers" / "shared" / "healthscore"
DEV_ONLY = ("healthscore_dev", "moto", "pgserver", "hypothesis", "pytest")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_runtime_package_imports_nothing_of_development() -> None:
    offenders = {
        f"{path.relative_to(RUNTIME.parent)}: {name}"
        for path in RUNTIME.rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] in DEV_ONLY
    }
    assert not offenders, sorted(offenders)


def test_the_development_modules_left_the_layer() -> None:
    assert not [name for name in ("local", "cli", "demo", "bench") if (RUNTIME / name).exists()]
