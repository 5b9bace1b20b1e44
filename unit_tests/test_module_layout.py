"""The package's shape: modules import each other in one direction only. And the unit tests':
each stream declared in endpoints.py has its own unit_tests/test_<stream>.py of mocked-HTTP tests,
and there is one fake clock."""

import ast
from pathlib import Path
from typing import Dict, Iterable, List, Set

from source_metronome.endpoints import STREAMS

PACKAGE = Path(__file__).resolve().parent.parent / "source_metronome"
UNIT_TESTS = Path(__file__).resolve().parent


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


def streams_without_their_test_file(streams: Iterable[str], folder: Path) -> List[str]:
    """What is missing, per stream: folder/test_<stream>.py, its docstring opening with the stream's
    name (what the file is about), or a mocked-HTTP test (the CDK's HttpMocker) in it."""
    problems = []
    for stream in streams:
        path = folder / f"test_{stream}.py"
        if not path.is_file():
            problems.append(f"{stream}: no {path.name}")
            continue
        tree = ast.parse(path.read_text())
        if not (ast.get_docstring(tree) or "").startswith(f"{stream}:"):
            problems.append(f"{stream}: {path.name} does not open with a docstring saying what {stream} is")
        if not any(isinstance(node, ast.Name) and node.id == "HttpMocker" for node in ast.walk(tree)):
            problems.append(f"{stream}: {path.name} has no mocked-HTTP test")
    return problems


def clocks_outside_fake_clock(folder: Path) -> List[str]:
    """Classes named like a clock defined in a module other than fake_clock.py (test classes aside)."""
    return [
        f"{path.name}: {node.name}"
        for path in sorted(folder.glob("*.py"))
        if path.name != "fake_clock.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef) and "clock" in node.name.lower() and not node.name.startswith("Test")
    ]


class TestUnitTestsPerStream:
    def test_every_stream_declared_in_endpoints_has_its_own_test_file_of_mocked_http_tests(self):
        assert STREAMS
        assert streams_without_their_test_file([endpoint.name for endpoint in STREAMS], UNIT_TESTS) == []

    def test_given_a_stream_without_a_file_or_without_mocked_http_then_each_is_reported(self, tmp_path):
        (tmp_path / "test_plans.py").write_text('"""plans: the plans."""\nfrom airbyte_cdk.test.mock_http import HttpMocker\n\n@HttpMocker()\ndef test_read(http_mocker=None):\n    pass\n')
        (tmp_path / "test_packages.py").write_text('"""packages: the packages."""\n\ndef test_shape():\n    pass\n')
        (tmp_path / "test_products.py").write_text('"""Products and more."""\nfrom airbyte_cdk.test.mock_http import HttpMocker\n\nHttpMocker()\n')

        assert streams_without_their_test_file(["plans", "packages", "products", "credit_types"], tmp_path) == [
            "packages: test_packages.py has no mocked-HTTP test",
            "products: test_products.py does not open with a docstring saying what products is",
            "credit_types: no test_credit_types.py",
        ]


class TestOneFakeClock:
    def test_no_test_module_but_fake_clock_defines_a_clock(self):
        assert clocks_outside_fake_clock(UNIT_TESTS) == []

    def test_given_a_module_with_a_clock_of_its_own_then_it_is_reported(self, tmp_path):
        (tmp_path / "fake_clock.py").write_text("class FakeClock:\n    pass\n")
        (tmp_path / "test_pacing.py").write_text("class _SteppingClock:\n    pass\n")

        assert clocks_outside_fake_clock(tmp_path) == ["test_pacing.py: _SteppingClock"]
