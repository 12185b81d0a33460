"""One convention over every command: one ``error:`` line on stderr, exit 2 for usage and
bad input, 1 for a failed check, 0 for success; every ``--help`` ends with an example."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pelayanan.cli import cli
from pelayanan.cli._common import DB_HELP
from pelayanan.exceptions import InvalidArgumentError

MISSING = "no/such/file"


def _leaves(command: click.Command, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            yield from _leaves(sub, (*path, name))
    else:
        yield path


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None
        command = found
    return command


#: Every leaf command, the way it is called.
LEAVES = sorted(" ".join(path) for path in _leaves(cli, ()))

#: For each leaf command, a call naming an input that does not exist (or, for the commands
#: that read no file, an input that is not valid).
BAD_INPUT: dict[str, list[str]] = {
    "audit check-proof": [MISSING],
    "audit checkpoint": ["--db", MISSING],
    "audit consistency": ["--db", MISSING, "--from", "1"],
    "audit export": ["--db", MISSING, "-o", "{tmp}/out.jsonl"],
    "audit prove": ["--db", MISSING, "--seq", "0"],
    "audit verify": [MISSING],
    "audit witness cosign": ["--state", MISSING, "--checkpoint", MISSING],
    "audit witness init": ["--state", "{tmp}/w.json", "--name", "w", "--ledger-key", MISSING],
    "audit witness show": ["--state", MISSING],
    "calendar deadline": ["--start", "not-a-date", "--working-days", "3"],
    "calendar show": ["not-a-year"],
    "demo": ["--db", "{tmp}/no/such/folder/demo.db"],
    "keys generate": ["--out", "{tmp}", "--valid-from", "not-an-instant"],
    "keys list": ["--keys", MISSING],
    "keys revoke": ["old", "--keys", MISSING, "--reason", "leaked"],
    "keys rotate": ["--keys", MISSING],
    "privacy erase": ["--db", MISSING, "--subject", "s", "--reason", "r"],
    "privacy hold": ["--db", MISSING, "--subject", "s", "--reason", "r"],
    "privacy publish": ["--db", MISSING],
    "privacy release": ["--db", MISSING, "--hold", "h", "--reason", "r"],
    "privacy show": ["--db", MISSING, "--subject", "s", "--purpose", "p"],
    "privacy subjects": ["--db", MISSING],
    "report at-risk": ["--db", MISSING],
    "report ikm": [MISSING],
    "report open311": ["--db", MISSING],
    "report quality": ["--db", MISSING],
    "report sla": ["--db", MISSING],
    "sop check": [MISSING],
    "sop diagram": [MISSING],
    "sop schema": ["--format", "no-such-format"],
    "sop simulate": [MISSING, MISSING],
    "store import": [MISSING, "--db", "{tmp}/new.db"],
    "store info": ["--db", MISSING],
    "store migrate": ["--db", MISSING],
    "store move": ["--map", MISSING, "--ledger", "kota", "--to", "{tmp}/new.db"],
}


def _run(args: list[str]) -> click.testing.Result:
    return CliRunner().invoke(cli, args)


def _assert_one_error_line(result: click.testing.Result, code: int) -> None:
    assert result.exit_code == code, (result.exit_code, result.stderr, result.stdout)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in result.output


class TestEveryCommand:
    def test_the_table_names_every_command(self) -> None:
        """Each leaf command has a bad-input call in the table, and the table no other."""
        assert sorted(BAD_INPUT) == LEAVES

    @pytest.mark.parametrize("name", LEAVES)
    def test_bad_input_is_one_error_line_and_exit_2(self, name: str, tmp_path: Path) -> None:
        """A missing input file or an invalid value: one ``error:`` line, exit status 2."""
        args = [a.replace("{tmp}", str(tmp_path)) for a in BAD_INPUT[name]]
        result = _run([*name.split(), *args])
        _assert_one_error_line(result, 2)

    @pytest.mark.parametrize("name", LEAVES)
    def test_unknown_option_is_one_error_line_and_exit_2(self, name: str) -> None:
        """An option the command does not have: one ``error:`` line, exit status 2."""
        result = _run([*name.split(), "--no-such-option"])
        _assert_one_error_line(result, 2)
        assert "--no-such-option" in result.stderr

    @pytest.mark.parametrize("name", ["", *sorted({" ".join(n.split()[:-1]) for n in LEAVES})])
    def test_unknown_subcommand_is_one_error_line_and_exit_2(self, name: str) -> None:
        """A group asked for a command it lacks: one ``error:`` line, exit status 2."""
        result = _run([*name.split(), "no-such-command"])
        _assert_one_error_line(result, 2)

    @pytest.mark.parametrize("name", LEAVES)
    def test_help_ends_with_an_example(self, name: str) -> None:
        """``--help`` exits 0 and its last lines show the command being run."""
        result = _run([*name.split(), "--help"])
        assert result.exit_code == 0, result.output
        lines = [line.strip() for line in result.stdout.rstrip().splitlines()]
        assert "Example:" in lines, result.stdout
        examples = lines[len(lines) - lines[::-1].index("Example:") :]
        assert examples, result.stdout
        for line in examples:
            assert line.startswith(f"pelayanan {name} "), result.stdout


class TestConvention:
    @pytest.mark.parametrize(
        ("name", "text"),
        [("bad.yaml", "id: [x\n  y: {\n"), ("bad.toml", "id = [\n"), ("bad.json", '{"id": }')],
    )
    def test_a_parser_error_is_one_line(self, tmp_path: Path, name: str, text: str) -> None:
        """A YAML, TOML or JSON file that does not parse is one line naming file and line."""
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        result = _run(["sop", "check", str(path)])
        _assert_one_error_line(result, 1)
        assert result.stderr.startswith(f"error: {path}:")

    def test_a_failed_check_exits_1(self, tmp_path: Path) -> None:
        """A check that runs and fails exits 1, each problem one ``error:`` line."""
        path = tmp_path / "sop.yaml"
        path.write_text("id: x\nversion: '1'\n", encoding="utf-8")
        result = _run(["sop", "check", str(path)])
        assert result.exit_code == 1
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) >= 1
        assert all(line.startswith(f"error: {path}:") for line in lines)

    def test_db_means_the_same_everywhere(self) -> None:
        """Every ``--db`` that opens a store has the one help text (SQLite path or URL)."""
        helps = {}
        for name in LEAVES:
            for param in _command(tuple(name.split())).params:
                if "--db" in getattr(param, "opts", ()) and name != "demo":
                    helps[name] = param.help
        assert len(helps) > 20
        assert set(helps.values()) == {DB_HELP}
        assert "postgresql://" in DB_HELP

    def test_an_unexpected_library_error_is_one_line(self) -> None:
        """A `PelayananError` no command caught still ends as one ``error:`` line, exit 2."""

        @click.command()
        def broken() -> None:
            raise InvalidArgumentError("the argument is wrong;\nfix it")

        cli.add_command(broken, "broken-for-test")
        try:
            result = _run(["broken-for-test"])
        finally:
            cli.commands.pop("broken-for-test")
        _assert_one_error_line(result, 2)
        assert result.stderr == "error: the argument is wrong; fix it\n"
