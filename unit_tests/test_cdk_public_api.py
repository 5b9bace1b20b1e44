"""The connector uses the Airbyte CDK through its public API only: no name the CDK keeps private
(one leading underscore) is overridden, called, assigned or read in source_metronome/. setup.py
accepts any 7.x CDK, and a private name may change in any of them."""

import ast
import importlib
import inspect
import textwrap
import types
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Set

PACKAGE = Path(__file__).resolve().parent.parent / "source_metronome"
CDK = "airbyte_cdk"
SELF_NAMES = {"self", "cls"}
# Functions that reach an attribute by a name given as a string.
ATTRIBUTE_FUNCTIONS = {"getattr", "setattr", "hasattr", "delattr"}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _is_cdk(cls: type) -> bool:
    return cls.__module__.split(".")[0] == CDK


def _private_names_of(cdk_class: type) -> Set[str]:
    """The private names a CDK class defines: in its namespace, and as `self._x` in its methods."""
    names = {name for name in vars(cdk_class) if _private(name)}
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cdk_class)))
    except (OSError, TypeError):
        return names
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in SELF_NAMES and _private(node.attr):
            names.add(node.attr)
    return names


def _cdk_private_names(classes: Mapping[str, Any]) -> Set[str]:
    """Private names of every CDK class among `classes`, or in the ancestry of one."""
    names: Set[str] = set()
    for cls in classes.values():
        if isinstance(cls, type):
            for ancestor in cls.__mro__:
                if _is_cdk(ancestor):
                    names |= _private_names_of(ancestor)
    return names


def _attribute_name(node: ast.AST) -> Optional[ast.AST]:
    """For getattr(x, "_name") and the like: a stand-in Attribute node, else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ATTRIBUTE_FUNCTIONS and len(node.args) >= 2:
        name = node.args[1]
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            return ast.Attribute(value=node.args[0], attr=name.value, lineno=node.lineno)
    return None


def _on_self(node: ast.Attribute) -> bool:
    target = node.value
    if isinstance(target, ast.Call) and isinstance(target.func, ast.Name) and target.func.id == "super":
        return True
    return isinstance(target, ast.Name) and target.id in SELF_NAMES


def cdk_private_uses(tree: ast.Module, namespace: Mapping[str, Any]) -> List[str]:
    """Where the module (parsed as `tree`, run as `namespace`) uses a private name of the CDK:

    - an import of a private name, or from a private module of the CDK;
    - inside a class with a CDK class among its ancestors, a method or `self._x` that the CDK
      class defines (an override, a call, an assignment or a read);
    - anywhere, `x._y` (or getattr(x, "_y")) on another object, `_y` being private to one of the
      CDK classes the module imports.
    """
    found: List[str] = []
    imported_private = _cdk_private_names({name: value for name, value in namespace.items() if isinstance(value, type) and _is_cdk(value)})
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == CDK:
            private = [alias.name for alias in node.names if _private(alias.name)] + [part for part in node.module.split(".") if _private(part)]
            found += [f"line {node.lineno}: imports {name}" for name in private]
        if isinstance(node, ast.ClassDef):
            cls = namespace.get(node.name)
            inherited = _cdk_private_names({node.name: cls}) if isinstance(cls, type) else set()
            for inner in ast.walk(node):
                if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)) and inner.name in inherited:
                    found.append(f"line {inner.lineno}: {node.name} overrides {inner.name}")
                attribute = _attribute_name(inner) or inner
                if isinstance(attribute, ast.Attribute) and _on_self(attribute) and attribute.attr in inherited:
                    found.append(f"line {attribute.lineno}: {node.name} uses self.{attribute.attr}")
        attribute = _attribute_name(node) or node
        if isinstance(attribute, ast.Attribute) and not _on_self(attribute) and attribute.attr in imported_private:
            found.append(f"line {attribute.lineno}: uses .{attribute.attr}")
    return sorted(set(found))


def _package_uses() -> Dict[str, List[str]]:
    uses = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        found = cdk_private_uses(ast.parse(path.read_text()), vars(importlib.import_module(module)))
        if found:
            uses[module] = found
    return uses


def _uses_in(source: str) -> List[str]:
    """The checker run on a module given as text."""
    module = types.ModuleType("example")
    exec(compile(source, "example", "exec"), vars(module))
    return cdk_private_uses(ast.parse(source), vars(module))


class TestPublicCdkApi:
    def test_no_module_of_the_package_uses_a_private_name_of_the_cdk(self):
        assert _package_uses() == {}

    def test_the_checker_finds_an_override_a_call_an_assignment_and_a_read(self):
        source = textwrap.dedent(
            """
            from airbyte_cdk.sources.streams.http import HttpClient, HttpStream
            from airbyte_cdk.utils.traced_exception import AirbyteTracedException

            class Client(HttpClient):
                def _send_with_retry(self, request, request_kwargs):
                    return self._send(request, request_kwargs)

            class Stream(HttpStream):
                def __init__(self):
                    self._http_client = Client()

            def cause(error: AirbyteTracedException):
                return getattr(error, "_exception", None)
            """
        )

        assert _uses_in(source) == [
            "line 11: Stream uses self._http_client",
            "line 14: uses ._exception",
            "line 6: Client overrides _send_with_retry",
            "line 7: Client uses self._send",
        ]

    def test_the_checker_leaves_the_connectors_own_private_names_alone(self):
        source = textwrap.dedent(
            """
            from airbyte_cdk.sources.streams import Stream

            class Listing(Stream):
                def __init__(self, pages):
                    self._pages = pages

                def _next(self):
                    return self._pages.pop()
            """
        )

        assert _uses_in(source) == []
