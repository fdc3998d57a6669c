"""The package's shape: imports point one way (no cycles), an import inside a function only defers a
heavy optional dependency, and no source file is too long to read in one sitting."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "aekit"
MAX_LINES = 400
# Imported inside a function only to defer them: heavy, and needed by few calls (a picture, an
# index, a browser), so that `import aekit` and `aekit --version` stay fast.
DEFERRABLE = {"matplotlib", "faiss", "tensorboard", "torch.utils.tensorboard", "onnxruntime", "onnx",
              "playwright", "constriction", "importlib"}


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules():
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _absolute(module, path, node):
    """The absolute module an ``ImportFrom`` names (resolving ``from .. import``)."""
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module, path, known):
    """``(imported aekit module, line, inside a function)`` for every import statement of ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_function = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            in_function.update(id(child) for child in ast.walk(node) if child is not node)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, path, node)
            # `from package import submodule` depends on the submodule, not only on the package
            targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in known else source for a in node.names]
        else:
            continue
        found.extend((target, node.lineno, id(node) in in_function) for target in targets)
    return found


def _graph():
    modules = _modules()
    return {name: {target for target, _, _ in _imports(name, path, modules) if target in modules and target != name}
            for name, path in modules.items()}


def _cycle(graph):
    """One import cycle as a list of modules, or None."""
    state = {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return trail[trail.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, trail + [nxt])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_imports_inside_functions_only_defer_heavy_optional_dependencies():
    modules = _modules()
    offenders = []
    for name, path in modules.items():
        for target, line, inside in _imports(name, path, modules):
            if inside and not any(target == d or target.startswith(d + ".") for d in DEFERRABLE):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert not offenders, "imports inside functions:\n" + "\n".join(offenders)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_source_files_are_short(path):
    n_lines = len(path.read_text(encoding="utf-8").splitlines())
    assert n_lines <= MAX_LINES, f"{path.name} has {n_lines} lines (at most {MAX_LINES})"
