"""The layers, from each module's imports (its ``ast``, nothing is run):

    respd.commands.*   command families         may import anything below
    respd.*            server machinery         never a command family (one exception)
    respd.storage.*    data structures, files   only each other and respd's leaf utilities

Imports inside ``if TYPE_CHECKING:`` are type hints and do not count.  Imports inside
functions do count: they run, just later, so a layer crossed there is crossed all the
same (and a function-local import no longer hides an import cycle).

The one import of the command families from respd/ is respd.server's, which fills the
command table every server dispatches through.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"respd": ROOT / "respd", "respd.commands": ROOT / "commands",
            "respd.storage": ROOT / "storage"}
# What storage/ may use of respd/: leaf utilities with no server state.
STORAGE_MAY_USE = {"respd", "respd.errors", "respd.numbers", "respd.resp", "respd.glob"}
COMMANDS_IMPORTED_BY = {"respd.server"}  # the registration import


def _modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.glob("*.py")):
            name = package if path.name == "__init__.py" else f"{package}.{path.stem}"
            found[name] = path
    return found


MODULES = _modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(node: ast.AST, package: str) -> list[str]:
    """The modules an import statement names (``from respd import errors`` names
    respd.errors when that is a module)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
        base = f"{base}.{node.module}" if node.module else base
    else:
        base = node.module or ""
    names = [base]
    names += [f"{base}.{alias.name}" for alias in node.names
              if f"{base}.{alias.name}" in MODULES]
    return names


def imports_of(name: str) -> set[str]:
    """The respd modules ``name`` imports at run time."""
    tree = ast.parse(MODULES[name].read_text())
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.update(m for m in _imported(node, package)
                         if m == "respd" or m.startswith("respd."))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(name)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def _layer(name: str) -> str:
    if name.startswith("respd.commands"):
        return "commands"
    if name.startswith("respd.storage"):
        return "storage"
    return "respd"


def test_storage_imports_no_server_machinery_and_no_command_family() -> None:
    offenders = [f"{name} imports {dep}" for name, deps in GRAPH.items()
                 if _layer(name) == "storage"
                 for dep in sorted(deps)
                 if _layer(dep) != "storage" and dep not in STORAGE_MAY_USE]
    assert not offenders, "\n".join(offenders)


def test_respd_imports_no_command_family_but_the_registration() -> None:
    offenders = [f"{name} imports {dep}" for name, deps in GRAPH.items()
                 if _layer(name) == "respd" and name not in COMMANDS_IMPORTED_BY
                 for dep in sorted(deps) if _layer(dep) == "commands"]
    assert not offenders, "\n".join(offenders)
    assert GRAPH["respd.server"] & {m for m in MODULES if _layer(m) == "commands"} == {
        "respd.commands"}


def test_no_import_cycles_among_respd_modules() -> None:
    inside = {n for n in MODULES if _layer(n) == "respd" and n != "respd"}
    edges = {n: GRAPH[n] & inside for n in inside}
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(edges[node]):
            if state.get(dep) == 1:
                cycles.append(" -> ".join(path[path.index(dep):] + [node, dep]))
            elif dep not in state:
                walk(dep, path + [node])
        state[node] = 2

    for node in sorted(inside):
        if node not in state:
            walk(node, [])
    assert not cycles, "\n".join(cycles)


def test_the_graph_sees_imports() -> None:
    """The walk finds what is there (a broken walk would pass everything above)."""
    assert "respd.dispatch" in GRAPH["respd.server"]
    assert "respd.storage.db" in GRAPH["respd.storage.rdb"]
    assert "respd.server" not in GRAPH["respd.blocking"]  # a TYPE_CHECKING import only


@pytest.mark.parametrize("name", sorted(set(MODULES) - {"respd.__main__"}))  # that one runs
def test_module_imports_in_isolation(name: str) -> None:
    run = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
