"""virtualmeeting has no import cycle and depends on nothing that depends on it.

The modules are read (ast), not imported: every import counts, also one inside a function or under
TYPE_CHECKING, since an import hidden in a function is still a cycle (a design question, not a fix).
"""

import ast
from pathlib import Path

PACKAGE = "virtualmeeting"
ROOT = Path(__file__).resolve().parents[2]  # the checkout
# What the framework must never import: the owning app, the provider packages, the simulators.
FORBIDDEN = ("seminars", "zoomsim", "simulators")


def module_files(root: Path, package: str) -> dict[str, Path]:
    """The package's modules by dotted name, tests and migrations left out."""
    modules = {}
    for path in (root / package).rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        if "tests" in parts or "migrations" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def imported_names(module: str, path: Path) -> set[str]:
    """Every dotted name the module imports (absolute, or relative made absolute), with `from a import b` as
    both a and a.b (b may be a module)."""
    names = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join([*parent, base] if base else parent)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    modules = module_files(root, package)
    graph = {}
    for module, path in modules.items():
        targets = set()
        for name in imported_names(module, path):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as [a, b, ..., a], or [] when there is none (depth-first search, sorted: stable)."""
    state = {}  # module -> "open" while on the current path, "done" once fully explored
    path: list[str] = []

    def visit(module: str) -> list[str]:
        state[module] = "open"
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[module] = "done"
        return []

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return []


def test_virtualmeeting_has_no_import_cycle():
    graph = import_graph(ROOT, PACKAGE)
    assert len(graph) > 20, "the package's modules were not found"
    cycle = find_cycle(graph)
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_virtualmeeting_imports_neither_seminars_nor_a_provider_package():
    modules = module_files(ROOT, PACKAGE)
    wrong = sorted(
        {
            f"{module} imports {top}"
            for module, path in modules.items()
            for top in (name.split(".")[0] for name in imported_names(module, path))
            if top in FORBIDDEN or top.startswith(f"{PACKAGE}_")
        }
    )
    assert not wrong, "virtualmeeting depends on its users: " + "; ".join(wrong)


def test_the_check_finds_a_cycle_and_names_it(tmp_path):
    """The check itself: a cycle through a function-level and a relative import is found and named."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def f():\n    from .c import g\n")
    (package / "c.py").write_text("import pkg.a\n")
    (package / "d.py").write_text("from pkg.a import x\n")
    assert find_cycle(import_graph(tmp_path, "pkg")) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]
    (package / "c.py").write_text("")
    assert find_cycle(import_graph(tmp_path, "pkg")) == []
