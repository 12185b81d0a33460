"""Every code block in README.md and docs/*.md runs as written, or is marked an excerpt.

The rules (docs/contributing.md): a ``python`` block runs; a ``yaml`` block is an SOP that
passes ``pelayanan sop check``; a ``console`` block's commands run, in order, in the folder
the document's earlier blocks ran in, and the output it shows must appear in the command's
standard output (``...`` stands for any text).  Any other block, or one of these that shows
only part of something, carries ``<!-- excerpt -->`` on the line before its fence.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from pelayanan.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.DOTALL | re.MULTILINE)
EXCERPT = "<!-- excerpt -->"
#: Markers of blocks another test checks: the test vectors (tests/audit/test_audit_vectors.py,
#: tests/audit/test_witness_vectors.py).
CHECKED_ELSEWHERE = ("<!-- vectors:begin -->", "<!-- witness-vectors:begin -->")
EXECUTED = ("console", "python", "yaml")
#: Console commands that install software: shown to the reader, not run by the tests.
INSTALLERS = (("python", "-m", "pip"), ("nox",))


@dataclass(frozen=True)
class Block:
    """One fenced code block of a document."""

    doc: str
    line: int
    lang: str
    code: str
    excerpt: bool

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line}"


def _blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rpartition("\n")[2]
        found.append(
            Block(
                doc=str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name,
                line=text.count("\n", 0, match.start()) + 1,
                lang=match.group(1),
                code=match.group(2),
                excerpt=before.strip() in (EXCERPT, *CHECKED_ELSEWHERE),
            )
        )
    return found


ALL_BLOCKS = [block for doc in DOCS for block in _blocks(doc)]
RUN_DOCS = [doc for doc in DOCS if any(not b.excerpt for b in _blocks(doc))]


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=[b.where for b in ALL_BLOCKS])
def test_block_is_executed_or_marked(block: Block) -> None:
    """A block the tests cannot run says it is an excerpt."""
    assert block.excerpt or block.lang in EXECUTED, (
        f"{block.where}: a ```{block.lang} block is not run by the tests; "
        f"put {EXCERPT} on the line before it (see docs/contributing.md)"
    )


# --- console blocks -----------------------------------------------------------------------


def _commands(code: str) -> list[tuple[str, list[str]]]:
    """Split a console block into (command line, shown output lines)."""
    lines = code.splitlines()
    prompted = any(line.startswith("$ ") for line in lines)
    steps: list[tuple[str, list[str]]] = []
    for line in lines:
        command = (
            line[2:]
            if prompted and line.startswith("$ ")
            else None
            if prompted
            else line
            if line.split(" ", 1)[0] in ("pelayanan", "python", "nox")
            else None
        )
        if command is not None:
            steps.append((command, []))
        elif line.strip():
            steps[-1][1].append(line)
    return steps


def _words(command: str) -> list[list[str]]:
    """Split a command line into its ``&&``-joined commands (comments dropped)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token == "&&":
            commands.append([])
        else:
            commands[-1].append(token)
    return commands


def _matches(shown: list[str], output: str) -> bool:
    """Return whether the shown lines appear, in order, among the output's lines."""
    actual = iter(output.splitlines())
    for line in shown:
        if line.strip() == "...":
            continue
        pattern = re.compile(".*".join(re.escape(part) for part in line.split("...")))
        if not any(pattern.fullmatch(candidate) for candidate in actual):
            return False
    return True


def _run_console(block: Block) -> None:
    for command, shown in _commands(block.code):
        for words in _words(command):
            if tuple(words[: len(INSTALLERS[0])]) in INSTALLERS or words[:1] == ["nox"]:
                continue
            assert words[0] == "pelayanan", f"{block.where}: cannot run {command!r}"
            redirect = words.index(">") if ">" in words else None
            args = words[1:redirect]
            result = CliRunner().invoke(cli, args, catch_exceptions=False)
            assert result.exit_code == 0, (
                f"{block.where}: {command!r} exited {result.exit_code}:\n"
                f"{result.stdout}{result.stderr}"
            )
            if redirect is not None:
                Path(words[redirect + 1]).write_text(result.stdout, encoding="utf-8")
            assert _matches(shown, result.stdout), (
                f"{block.where}: {command!r} printed:\n{result.stdout}\nnot the shown:\n"
                + "\n".join(shown)
            )


# --- running a document -------------------------------------------------------------------


def _run_python(block: Block, index: int) -> None:
    namespace: dict[str, object] = {"__name__": f"snippet_{index}"}
    exec(compile(block.code, block.where, "exec"), namespace)


def _run_yaml(block: Block, index: int) -> None:
    path = Path(f"block-{index}.yaml")
    path.write_text(block.code, encoding="utf-8")
    result = CliRunner().invoke(cli, ["sop", "check", str(path)])
    assert result.exit_code == 0, f"{block.where}: not a valid SOP:\n{result.output}"


@pytest.mark.parametrize("doc", RUN_DOCS, ids=[d.name for d in RUN_DOCS])
def test_document_runs(doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A document's blocks run in order in a fresh folder with the examples beside it."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    for index, block in enumerate(_blocks(doc)):
        if block.excerpt:
            continue
        {"python": _run_python, "yaml": _run_yaml, "console": lambda b, _: _run_console(b)}[
            block.lang
        ](block, index)
        assert os.getcwd() == str(tmp_path)


class TestHarness:
    def test_prompted_block(self) -> None:
        """With ``$`` prompts, the other lines are the shown output of the command above."""
        steps = _commands("$ pelayanan a\nout 1\n$ pelayanan b\n")
        assert steps == [("pelayanan a", ["out 1"]), ("pelayanan b", [])]

    def test_unprompted_block(self) -> None:
        """Without prompts, a line starting with a program is a command, others output."""
        steps = _commands("pelayanan a\n2026-01-01\npython -m pip install x\n")
        assert steps == [("pelayanan a", ["2026-01-01"]), ("python -m pip install x", [])]

    def test_words(self) -> None:
        """``&&`` separates commands and ``#`` starts a comment."""
        assert _words("a b && c 'd e'   # note") == [["a", "b"], ["c", "d e"]]

    def test_matches(self) -> None:
        """Shown lines match in order, ``...`` standing for any text."""
        assert _matches(["OK 3 entries, ..."], "head\nOK 3 entries, 3 checkpoints\n")
        assert not _matches(["OK 4 entries, ..."], "OK 3 entries, 3 checkpoints\n")
        assert not _matches(["b", "a"], "a\nb\n")

    def test_excerpt_marker(self, tmp_path: Path) -> None:
        """The marker on the line before a fence makes that block an excerpt."""
        doc = tmp_path / "x.md"
        doc.write_text(f"{EXCERPT}\n```yaml\na: 1\n```\n\n```yaml\nb: 2\n```\n", encoding="utf-8")
        assert [(b.code, b.excerpt, b.line) for b in _blocks(doc)] == [
            ("a: 1\n", True, 2),
            ("b: 2\n", False, 6),
        ]
