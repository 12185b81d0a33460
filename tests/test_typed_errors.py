"""No bare ``ValueError`` or ``KeyError`` escapes the library: every refusal is typed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pelayanan
from pelayanan.exceptions import (
    DispositionError,
    IncompleteRequestError,
    InvalidArgumentError,
    PelayananError,
    UnknownNameError,
)

SRC = Path(pelayanan.__file__).parent
BARE = {"ValueError", "KeyError"}
#: What catches a bare error raised inside a ``try`` block before it can escape.
CATCHERS = {
    "ValueError": {"ValueError", "Exception", "BaseException"},
    "KeyError": {"KeyError", "LookupError", "Exception", "BaseException"},
}
#: Documented exceptions: (file relative to the package, function).  A dunder protocol
#: method that must raise the builtin would be listed here; there is none today.
ALLOWED: set[tuple[str, str]] = set()


def _raised_name(node: ast.Raise) -> str | None:
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    return exc.id if isinstance(exc, ast.Name) else None


def _handler_names(handler: ast.ExceptHandler) -> set[str]:
    if handler.type is None:
        return {"BaseException"}
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return {t.id for t in types if isinstance(t, ast.Name)}


def _escaping_raises(tree: ast.AST) -> list[tuple[int, str, str]]:
    """Return (line, function, error) for each bare raise no enclosing ``try`` catches."""
    found: list[tuple[int, str, str]] = []

    def visit(node: ast.AST, function: str, caught: frozenset[str]) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function, caught = node.name, frozenset()
        if isinstance(node, ast.Raise) and node.exc is not None:
            name = _raised_name(node)
            if name in BARE and not caught & CATCHERS[name]:
                found.append((node.lineno, function, name))
        if isinstance(node, ast.Try):
            inner = caught | {n for h in node.handlers for n in _handler_names(h)}
            for child in node.body:
                visit(child, function, frozenset(inner))
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                visit(child, function, caught)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, function, caught)

    visit(tree, "<module>", frozenset())
    return found


class TestNoBareErrors:
    def test_no_bare_value_or_key_error_escapes(self) -> None:
        """No ``raise ValueError``/``raise KeyError`` in src escapes its function."""
        escaping = []
        for path in sorted(SRC.rglob("*.py")):
            relative = path.relative_to(SRC).as_posix()
            for line, function, name in _escaping_raises(ast.parse(path.read_text("utf-8"))):
                if (relative, function) not in ALLOWED:
                    escaping.append(f"{relative}:{line}: {function} raises a bare {name}")
        assert escaping == []

    def test_the_scan_finds_what_it_looks_for(self) -> None:
        """The scan reports an uncaught bare raise and passes one caught in place."""
        source = (
            "def bad(x):\n    raise ValueError(x)\n"
            "def good(x):\n    try:\n        raise KeyError(x)\n    except LookupError:\n"
            "        return None\n"
            "def handler_raises(x):\n    try:\n        pass\n    except ValueError:\n"
            "        raise ValueError(x)\n"
        )
        assert _escaping_raises(ast.parse(source)) == [
            (2, "bad", "ValueError"),
            (12, "handler_raises", "ValueError"),
        ]


class TestTypedErrors:
    @pytest.mark.parametrize(
        ("error", "builtin"),
        [
            (InvalidArgumentError("x"), ValueError),
            (DispositionError("x"), ValueError),
            (UnknownNameError("state", "x"), KeyError),
        ],
    )
    def test_typed_errors_keep_the_builtin(self, error: Exception, builtin: type) -> None:
        """The typed errors are PelayananErrors and still the builtin callers caught."""
        assert isinstance(error, PelayananError)
        assert isinstance(error, builtin)

    def test_unknown_name_reads_plainly(self) -> None:
        """An unknown name says what was looked up, without KeyError's quoting."""
        error = UnknownNameError("state", "verifikasi")
        assert str(error) == "no state named 'verifikasi'"
        assert (error.kind, error.name) == ("state", "verifikasi")


class TestHints:
    def test_incomplete_names_where_each_item_goes(self) -> None:
        """Data fields are asked for in ``data``; keyword arguments as ``name=...``."""
        error = IncompleteRequestError("verify", ["foto"], arguments=["justification"])
        assert str(error) == "action 'verify' needs foto in data and justification=..."
        assert error.missing == ("foto", "justification")
        assert error.arguments == ("justification",)

    def test_incomplete_argument_detail_follows_the_name(self) -> None:
        """A detail after an argument's name stays after ``name=...``."""
        error = IncompleteRequestError("dispose", arguments=["due (before the issue time)"])
        assert str(error) == "action 'dispose' needs due=... (before the issue time)"
