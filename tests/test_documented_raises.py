"""Every public function and method documents the pelayanan errors it raises itself.

The public API is what ``pelayanan.__all__`` and the public modules' ``__all__`` name
(a module is public when no part of its dotted name starts with ``_``).  For each public
function, method and constructor, the ``raise X(...)`` statements in its own body that
no enclosing ``try`` catches, where ``X`` is a `PelayananError`, must be named in the
docstring's ``Raises:`` section (a constructor's in the class or ``__init__`` docstring).
Errors raised by the functions it calls are not traced: the test reads one body at a time.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import pkgutil
import re
import textwrap
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pelayanan
from pelayanan.exceptions import PelayananError

#: Packages whose modules are the command line's, not a Python API.
NOT_API = ("pelayanan.cli",)


def _public_modules() -> Iterator[Any]:
    yield pelayanan
    for info in pkgutil.walk_packages(pelayanan.__path__, "pelayanan."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or info.name.startswith(NOT_API):
            continue
        with warnings.catch_warnings():
            # A deprecated alias module still counts: it re-exports public names.
            warnings.simplefilter("ignore", DeprecationWarning)
            yield importlib.import_module(info.name)


def _functions_of(obj: object) -> Iterator[tuple[Callable[..., Any], str | None]]:
    """Yield (function, extra docstring) for a public function, or a class's methods."""
    if inspect.isfunction(obj):
        yield obj, None
        return
    if not inspect.isclass(obj) or issubclass(obj, BaseException):
        return
    if not obj.__module__.startswith("pelayanan"):
        return
    for name, member in vars(obj).items():
        if name.startswith("_") and name != "__init__":
            continue
        function = member.fget if isinstance(member, property) else member
        function = getattr(function, "__func__", function)
        if inspect.isfunction(function):
            yield function, (obj.__doc__ if name == "__init__" else None)


def _api() -> dict[str, tuple[Callable[..., Any], str | None]]:
    found: dict[str, tuple[Callable[..., Any], str | None]] = {}
    for module in _public_modules():
        for name in getattr(module, "__all__", ()):
            for function, extra in _functions_of(getattr(module, name)):
                found.setdefault(
                    f"{function.__module__}.{function.__qualname__}", (function, extra)
                )
    return found


def _resolve(node: ast.expr, scope: dict[str, Any]) -> object:
    if isinstance(node, ast.Name):
        return scope.get(node.id, getattr(builtins, node.id, None))
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, scope)
        return getattr(base, node.attr, None) if base is not None else None
    return None


def _caught(handlers: list[ast.ExceptHandler], scope: dict[str, Any]) -> tuple[type, ...]:
    types: list[type] = []
    for handler in handlers:
        if handler.type is None:
            types.append(BaseException)
            continue
        nodes = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        types.extend(t for n in nodes if isinstance(t := _resolve(n, scope), type))
    return tuple(types)


def _raised(function: Callable[..., Any]) -> set[str]:
    """Return the names of the `PelayananError` classes *function*'s own body raises."""
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        return set()
    tree = ast.parse(source)
    (definition,) = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    scope = dict(function.__globals__)
    found: set[str] = set()

    def visit(node: ast.AST, caught: tuple[type, ...]) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            return
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            error = _resolve(target, scope)
            if (
                isinstance(error, type)
                and issubclass(error, PelayananError)
                and not issubclass(error, caught or (type(None),))
            ):
                found.add(error.__name__)
        if isinstance(node, ast.Try):
            inner = caught + _caught(node.handlers, scope)
            for child in node.body:
                visit(child, inner)
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                visit(child, caught)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, caught)

    for statement in definition.body:
        visit(statement, ())
    return found


def _raises_section(*docstrings: str | None) -> str:
    return "\n".join(d.split("Raises:", 1)[1] for d in docstrings if d and "Raises:" in d)


def test_the_api_is_found() -> None:
    """The walk finds the desk, the loaders and the verifiers (the scan is not vacuous)."""
    names = set(_api())
    for expected in (
        "pelayanan.desk._desk.ServiceDesk.act",
        "pelayanan.sop.loader.load_sop",
        "pelayanan.store._check.verify_store",
    ):
        assert expected in names


def test_every_raise_is_documented() -> None:
    """Each public function's docstring names, under Raises:, the errors it raises."""
    missing: list[str] = []
    for name, (function, extra) in sorted(_api().items()):
        raised = _raised(function)
        if not raised:
            continue
        section = _raises_section(function.__doc__, extra)
        absent = sorted(e for e in raised if not re.search(rf"\b{e}\b", section))
        if absent:
            missing.append(f"{name}: {', '.join(absent)}")
    assert not missing, "undocumented raises:\n" + "\n".join(missing)
