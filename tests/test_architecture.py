"""The walls of docs/architecture.md hold: the rooms never import the wiring."""

from __future__ import annotations

import ast
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
