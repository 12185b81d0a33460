"""The Python snippets in README.md and docs/*.md run as written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _snippets() -> list[tuple[str, int, str]]:
    found = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for index, match in enumerate(FENCE.finditer(doc.read_text(encoding="utf-8"))):
            found.append((doc.name, index, match.group(1)))
    return found


@pytest.mark.parametrize(
    ("doc", "index", "code"), _snippets(), ids=[f"{d}#{i}" for d, i, _ in _snippets()]
)
def test_snippet_runs(
    doc: str, index: int, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each python block runs in a fresh folder that has the examples beside it."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"snippet_{index}"}
    exec(compile(code, f"{doc}#{index}", "exec"), namespace)
    assert os.getcwd() == str(tmp_path)
