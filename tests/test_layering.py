"""The drawn structure holds: imports go one way between the packages, and no cycle runs between the
parts of a package (a part is a subpackage or a top-level module)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["schemas", "rewards", "pipelines", "train", "vrft"]  # each may import only itself and those before


def _imports(path: Path) -> set[str]:
    """Every module named by an import anywhere in the file (function-local imports included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = module.split(".")[: -node.level] if path.name != "__init__.py" else module.split(".")[: len(module.split(".")) - node.level + 1]
                base = ".".join(pkg + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


def _modules() -> dict[str, Path]:
    return {
        ".".join(p.relative_to(ROOT).with_suffix("").parts): p
        for top in LAYERS for p in (ROOT / top).rglob("*.py")
    }


def test_imports_go_one_way_between_packages():
    back = []
    for name, path in _modules().items():
        mine = LAYERS.index(name.split(".")[0])
        for imp in _imports(path):
            top = imp.split(".")[0]
            if top in LAYERS and LAYERS.index(top) > mine:
                back.append(f"{name} imports {imp}")
    assert back == []


def _part(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] != "__init__" else None


def test_no_cycle_between_the_parts_of_a_package():
    modules = _modules()
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        src = _part(name)
        if src is None:
            continue  # a package's own __init__ re-exports its parts
        for imp in _imports(path):
            top, dst = imp.split(".")[0], _part(imp)
            if top == name.split(".")[0] and dst and dst != src and f"{top}.{dst}" in {".".join(m.split(".")[:2]) for m in modules}:
                edges.setdefault(f"{top}.{src}", set()).add(f"{top}.{dst}")
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(trail[trail.index(nxt):] + [node, nxt]) if nxt in trail else f"{node} -> {nxt}")
            elif nxt not in state:
                visit(nxt, trail + [node])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])
    assert cycles == []
