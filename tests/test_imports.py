"""The package's shape: no import cycles among dockrewrite modules (imports inside functions count too: they only
defer a cycle), and every module opens with the sentence that says its job and stays about 600 lines or under."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "dockrewrite"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The dockrewrite modules one module imports, at any depth of its code."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import mod` needs only mod (pkg runs first anyway, for every module in it)
            names = [f"{base}.{alias.name}" for alias in node.names]
            found |= {n for n in names if n in known}
            if any(n not in known for n in names):
                found.add(base)
    return {m for m in found if m in known and m != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    known = _modules()
    graph = {name: _imports(name, path, known) for name, path in known.items()}
    cycles = _cycles(graph)
    described = [
        " ".join(m for m in cycle)
        + "\n    edges: "
        + ", ".join(f"{a} -> {b}" for a in cycle for b in sorted(graph[a]) if b in cycle)
        for cycle in cycles
    ]
    assert not cycles, "import cycles among dockrewrite modules:\n" + "\n".join(described)


def test_the_walk_sees_function_level_imports():
    known = _modules()
    assert "dockrewrite.transform" in _imports("dockrewrite.builder.merge", known["dockrewrite.builder.merge"], known)


# "about 600 lines": a module past this has more than one job (the structure issue's rule)
MAX_LINES = 620


def test_every_module_says_its_job_and_stays_small():
    problems = []
    for name, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        if not ast.get_docstring(ast.parse(text)):
            problems.append(f"{name}: no docstring saying what the module does")
        if text.count("\n") > MAX_LINES:
            problems.append(f"{name}: {text.count(chr(10))} lines (more than {MAX_LINES})")
    assert not problems, "\n".join(problems)
