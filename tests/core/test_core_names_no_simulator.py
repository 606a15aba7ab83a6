"""The core names no simulator: no AI2-THOR action or Household type name in its code.

Docstrings and comments may name them (as examples); string constants in code may not.
The same check as a shell command is in docs/embodiments.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from robomem.envs.household.actions import ACTIONS
from robomem.envs.household.catalog import KINDS

ROOT = Path(__file__).resolve().parents[2]
CORE = sorted([*(ROOT / "robomem").rglob("*.py"), *(ROOT / "planners").rglob("*.py")])
FORBIDDEN = frozenset(ACTIONS) | frozenset(KINDS) | {"Floor", "Wall", "Ceiling"}


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def names_in_code(path: Path) -> list[tuple[int, str]]:
    """Simulator names inside string constants of ``path`` that are not docstrings."""
    tree = ast.parse(path.read_text(), str(path))
    docs = _docstrings(tree)
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            words = set(node.value.replace("|", " ").replace(",", " ").split())
            hits += [(node.lineno, w) for w in sorted(words & FORBIDDEN)]
    return hits


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_module_names_no_simulator(path: Path) -> None:
    assert names_in_code(path) == []


def test_the_check_finds_what_it_looks_for(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('"""Docs may say MoveAhead and Fridge."""\n\nX = {"Fridge": "OpenObject"}\n'
                   '# a comment: PickupObject\n')
    assert names_in_code(bad) == [(3, "Fridge"), (3, "OpenObject")]
