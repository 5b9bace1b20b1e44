"""The package's shape: modules import each other in one direction only."""

import ast
from pathlib import Path
from typing import Dict, List, Set

PACKAGE = Path(__file__).resolve().parent.parent / "source_metronome"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: Set[str]) -> Set[str]:
    """Modules of the package that `path` imports, TYPE_CHECKING imports included. `from package
    import name` imports the package itself, its `__init__` (the name is looked up in the package's
    namespace, which is only half made while `__init__` is still importing), and the module `name`
    when it is one; `import package.module` and `from package.module import name` import the module."""
    imported: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    return imported & modules


def _graph() -> Dict[str, Set[str]]:
    paths = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: _imports(path, set(paths)) - {name} for name, path in paths.items()}


def _cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    found: List[List[str]] = []
    done: Set[str] = set()

    def visit(module: str, path: List[str]) -> None:
        if module in path:
            found.append(path[path.index(module) :] + [module])
            return
        if module in done:
            return
        for imported in sorted(graph[module]):
            visit(imported, path + [module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    return found


class TestImports:
    def test_no_module_of_the_package_imports_itself_through_others(self):
        assert _cycles(_graph()) == []

    def test_the_cycle_finder_finds_a_cycle(self):
        assert _cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]

    def test_given_a_package_init_importing_a_module_that_imports_the_package_then_it_is_a_cycle(self, tmp_path):
        package = tmp_path / "package"
        package.mkdir()
        (package / "__init__.py").write_text("from package.source import Source\n")
        (package / "source.py").write_text("from package import records\n")
        (package / "records.py").write_text("")
        modules = {"package", "package.source", "package.records"}

        graph = {name: _imports(package / file, modules) - {name} for name, file in (("package", "__init__.py"), ("package.source", "source.py"))}

        assert _cycles({**graph, "package.records": set()}) == [["package", "package.source", "package"]]
