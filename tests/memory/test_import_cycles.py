"""The memory modules import each other at the top, without cycles hidden in functions."""

from __future__ import annotations

import ast
from pathlib import Path

MEMORY = Path(__file__).resolve().parents[2] / "robomem" / "memory"


def _imports(path: Path) -> tuple[set[str], list[str]]:
    """The ``robomem.memory.*`` modules a file imports anywhere, and its indented imports."""
    tree = ast.parse(path.read_text())
    deps: set[str] = set()
    indented = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        deps.update(n for n in names if n.startswith("robomem.memory."))
        if node.col_offset > 0 and any(n.startswith("robomem.memory") for n in names):
            indented.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return deps, indented


def test_no_import_cycles_between_memory_modules() -> None:
    graph: dict[str, set[str]] = {}
    indented: list[str] = []
    for path in sorted(MEMORY.glob("*.py")):
        if path.stem != "__init__":
            graph[f"robomem.memory.{path.stem}"], more = _imports(path)
            indented += more
    assert indented == []  # no function-local or TYPE_CHECKING-only imports of each other
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for d in sorted(graph.get(m, ())):
            assert state.get(d) != 1, "import cycle: " + " -> ".join([*path, m, d])
            if d not in state:
                visit(d, [*path, m])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    assert "robomem.memory.scene_graph" not in graph["robomem.memory.rooms"]
    assert "robomem.memory.episodic" not in graph["robomem.memory.chunk_recall"]
