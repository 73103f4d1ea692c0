"""The house: every package stands on one floor and imports only from the floors below it (or from itself).

The imports are read with ``ast``, nothing is executed, so an import inside a function (the lazy ones that keep
torch out of a cheap command) counts as much as one at the top of a module. Two packages on the same floor may
not import each other either: ``ui`` and ``eval`` stand side by side, and so do the command line and the benchmarks.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

FLOORS = {
    "core": 0,  # records, errors, settings: what every stage shares
    "embeddings": 1,  # the build side
    "qa": 2,  # the query side (Assistant)
    "ui": 3,
    "eval": 3,
    "cli": 4,  # the `qa` command
    "bench": 4,
}


def imported_modules(tree: ast.AST, module: str) -> list[tuple[int, str]]:
    """``(line, dotted name)`` of every import in a module, relative ones made absolute."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # "from . import x" inside package.module: counted against the package it names
                base = module.split(".")[: -node.level]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            found.append((node.lineno, name))
    return found


def walk_imports():
    """Each project import as ``(file, line, importing package, imported package)``, outside packages left out."""
    for package in FLOORS:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, name in imported_modules(tree, module):
                target = name.split(".")[0]
                if target in FLOORS:
                    yield path.relative_to(ROOT), line, package, target


def test_every_package_of_the_project_has_a_floor():
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages - FLOORS.keys() == set(), "give the new package a floor in FLOORS"


def test_imports_only_run_down_a_floor():
    checked, upward = 0, []
    for path, line, package, target in walk_imports():
        checked += 1
        if target != package and FLOORS[target] >= FLOORS[package]:
            upward.append(f"{path}:{line}: {package} (floor {FLOORS[package]}) imports {target} "
                          f"(floor {FLOORS[target]})")
    by_floor = {}
    for package, floor in FLOORS.items():
        by_floor.setdefault(floor, []).append(package)
    print(f"\n{len(FLOORS)} packages on {len(by_floor)} floors: "
          + " < ".join("/".join(names) for _, names in sorted(by_floor.items()))
          + f"; {checked} imports of project packages checked, {len(upward)} run up")
    assert checked > 0
    assert upward == [], "imports that run up a floor or across one:\n" + "\n".join(upward)
