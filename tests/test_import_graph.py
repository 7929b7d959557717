"""Imports run one way: layers (nn modules, weights, data, paths) -> ultralytics integration -> commands, with no
cycles. Every import counts, also those inside functions (they run too, only later)."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "yolo_hornet"
INTEGRATION = {"yolo_hornet", "yolo_hornet.ultralytics_glue", "yolo_hornet.bundled", "yolo_hornet.safe_load"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def rank(name: str) -> int:
    """0: layers, 1: ultralytics integration, 2: commands."""
    if name == "yolo_hornet_cli" or name.startswith("yolo_hornet.cli"):
        return 2
    return 1 if name in INTEGRATION else 0


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """Our modules that ``path`` imports (absolute or relative, at any depth of the file)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py")) + [REPO / "yolo_hornet_cli.py"]
    names = {module_name(f): f for f in files}
    return {n: imports_of(f, n, set(names)) for n, f in names.items()}


def test_graph_sees_the_modules():
    g = graph()
    assert "yolo_hornet.gnconv" in g["yolo_hornet.horblock"]  # the parser finds relative imports
    assert "yolo_hornet.ultralytics_glue" in g["yolo_hornet.cli.common"]  # and imports inside functions


def test_imports_only_point_downward():
    wrong = [(a, b) for a, deps in graph().items() for b in deps if rank(b) > rank(a)]
    assert wrong == [], f"upward imports (importer, imported): {wrong}"


def test_no_import_cycles():
    g = graph()
    cycles, state = [], {}

    def visit(n, stack):
        state[n] = 1
        for m in sorted(g.get(n, ())):
            if state.get(m) == 1:
                cycles.append(stack[stack.index(m) :] + [m])
            elif m not in state:
                visit(m, stack + [m])
        state[n] = 2

    for n in sorted(g):
        if n not in state:
            visit(n, [n])
    assert cycles == [], f"import cycles: {cycles}"
