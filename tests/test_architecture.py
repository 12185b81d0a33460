"""The walls of docs/architecture.md hold: the rooms never import the wiring."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "pelayanan"
ROOMS = [
    "sop",
    "calendar",
    "sla",
    "routing",
    "access",
    "audit",
    "reports",
]
FORBIDDEN = ("pelayanan.store", "pelayanan.desk", "pelayanan.cli", "pelayanan.privacy")


def _modules(room: str) -> list[Path]:
    folder = SRC / room
    return sorted(folder.rglob("*.py")) if folder.is_dir() else [SRC / f"{room}.py"]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("room", ROOMS)
def test_room_does_not_import_the_wiring(room: str) -> None:
    """A room imports neither store, desk, privacy nor cli (only desk wires the rooms)."""
    offending = {
        f"{path.relative_to(SRC)} imports {name}"
        for path in _modules(room)
        for name in _imports(path)
        if name.startswith(FORBIDDEN)
    }
    assert not offending, sorted(offending)


def test_every_room_exists() -> None:
    """The wall list names real modules, so the test above cannot pass vacuously."""
    for room in ROOMS:
        assert _modules(room), room
        assert all(p.exists() for p in _modules(room)), room


def _module_name(path: Path) -> str:
    parts = ["pelayanan", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Return the imports that run when the module loads: not in functions nor type checks."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                pending.extend(node.body)
            pending.extend(node.orelse)
        elif isinstance(node, ast.Try):
            pending.extend([*node.body, *node.orelse, *node.finalbody])
            for handler in node.handlers:
                pending.extend(handler.body)
        elif isinstance(node, ast.With | ast.ClassDef):
            pending.extend(node.body)
    return found


def _import_graph() -> dict[str, set[str]]:
    """Map each pelayanan module to the pelayanan modules it imports when it loads."""
    paths = {_module_name(path): path for path in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in _top_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
                continue
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from pelayanan.x import y` imports module pelayanan.x.y when there is one.
                child = f"{base}.{alias.name}"
                targets.add(child if child in paths else base)
        graph[name] = {target for target in targets if target in paths and target != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return one cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_path_through(graph, set(component)) for component in components]


def _path_through(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """Return one concrete cycle inside a strongly connected *component*, start repeated."""
    start = min(component)
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        node = frontier.pop(0)
        for target in sorted(graph[node] & component):
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(parents[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if target not in parents:
                parents[target] = node
                frontier.append(target)
    return sorted(component)


class TestImportCycles:
    def test_no_import_cycles(self) -> None:
        """No chain of load-time imports inside pelayanan leads back to where it started."""
        cycles = [" -> ".join(cycle) for cycle in _cycles(_import_graph())]
        assert not cycles, "import cycles:\n" + "\n".join(cycles)

    def test_graph_sees_the_imports(self) -> None:
        """The graph records module-level imports, so the cycle check cannot pass vacuously."""
        graph = _import_graph()
        assert "pelayanan.exceptions" in graph["pelayanan.store.base"] | {
            t for m in graph["pelayanan.store.base"] for t in graph[m]
        }
        assert "pelayanan.desk._desk" in graph["pelayanan.desk"]
        # The front door loads lazily: its imports sit under TYPE_CHECKING.
        assert graph["pelayanan"] == set()

    def test_cycle_finder_names_a_cycle(self) -> None:
        """A cycle is reported as the modules along it, start repeated at the end."""
        graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
        assert _cycles(graph) == [["a", "b", "c", "a"]]
        assert _cycles({"a": {"b"}, "b": set()}) == []


ARCHITECTURE = SRC.parent.parent / "docs" / "architecture.md"
NAMED_MODULE = re.compile(r"`([A-Za-z_][\w/]*\.py)`")
NAMED_PACKAGE = re.compile(r"`([a-z_]+(?:/[a-z_]+)*)/`")


def _doc_names() -> tuple[set[str], set[str]]:
    """Return the module paths and package names docs/architecture.md puts in backticks."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    # A nested name (`audit/kinds/`) is a package only under one of ours, not `examples/webapp/`.
    packages = {
        p for p in NAMED_PACKAGE.findall(text) if "/" not in p or (SRC / p.split("/")[0]).is_dir()
    }
    return set(NAMED_MODULE.findall(text)), packages


def _tree() -> tuple[set[str], set[str]]:
    """Return the public module paths and the package names under src/pelayanan."""
    packages = {p.parent.relative_to(SRC).as_posix() for p in SRC.rglob("__init__.py")} - {"."}
    modules = {
        p.relative_to(SRC).as_posix()
        for p in SRC.rglob("*.py")
        if not p.name.startswith("_") and "__pycache__" not in p.parts
    }
    return modules, packages


class TestArchitectureDoc:
    def test_named_modules_exist(self) -> None:
        """Every module path the doc names in backticks is a file under src/pelayanan."""
        modules, packages = _doc_names()
        missing = sorted(m for m in modules if not (SRC / m).is_file())
        missing += sorted(f"{p}/" for p in packages if not (SRC / p / "__init__.py").is_file())
        assert not missing, f"docs/architecture.md names what does not exist: {missing}"

    def test_tree_is_named(self) -> None:
        """Every package and public module under src/pelayanan is named in the doc."""
        modules, packages = _tree()
        named_modules, named_packages = _doc_names()
        unnamed = sorted(modules - named_modules) + sorted(
            f"{p}/" for p in packages - named_packages
        )
        assert not unnamed, f"docs/architecture.md does not name: {unnamed}"

    def test_doc_names_modules(self) -> None:
        """The patterns find the doc's names, so the checks above cannot pass vacuously."""
        modules, packages = _doc_names()
        assert {"audit/verify.py", "clock.py", "sla/_core.py"} <= modules
        assert {"sla", "audit", "cli"} <= packages
