"""The command line imports a command's module, and its heavy dependencies, only when that
command runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pelayanan.cli import cli
from pelayanan.cli._main import COMMANDS, LazyCommand, LazyGroup

SRC = Path(__file__).resolve().parents[2] / "src"

#: Dependencies no help screen needs.
HEAVY = (
    "cryptography",
    "holidays",
    "jsonschema",
    "matplotlib",
    "psycopg",
    "psycopg_pool",
    "rich",
    "statemachine",
    "yaml",
)

_WRAPPER = """
import json, sys
sys.argv = ["pelayanan", *json.loads(sys.argv[1])]
from pelayanan.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print("\\n" + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _modules_after(*args: str) -> list[str]:
    """Run ``pelayanan ARGS`` in a fresh interpreter; return the modules it imported."""
    result = subprocess.run(
        [sys.executable, "-c", _WRAPPER, json.dumps(args)],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(SRC)},
    )
    report = json.loads(result.stdout.rsplit("\n", 2)[-2])
    assert report["code"] == 0, result.stderr
    modules: list[str] = report["modules"]
    return modules


def _heavy(modules: list[str]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules} & set(HEAVY))


class TestLazyImports:
    def test_help_imports_no_command_module(self) -> None:
        """`pelayanan --help` loads no command module and no heavy dependency."""
        modules = _modules_after("--help")
        assert _heavy(modules) == []
        ours = {m for m in modules if m.startswith("pelayanan")}
        assert ours == {
            "pelayanan",
            "pelayanan.cli",
            "pelayanan.cli._main",
            "pelayanan.cli._collector",
        }

    def test_version_imports_no_command_module(self) -> None:
        """`pelayanan --version` is as cheap as the help."""
        assert _heavy(_modules_after("--version")) == []

    def test_deadline_loads_only_the_calendar(self) -> None:
        """`pelayanan calendar deadline` needs holiday data; no crypto, store or audit code."""
        modules = _modules_after(
            "calendar", "deadline", "--start", "2026-03-17T10:00:00+07:00", "--working-days", "3"
        )
        assert _heavy(modules) == ["holidays"]
        assert not [m for m in modules if m.startswith(("pelayanan.audit", "pelayanan.store"))]
        # The holidays package's ~250 countries stay unloaded: only its Indonesia module.
        assert not [
            m for m in modules if m.startswith(("holidays.countries", "holidays.financial"))
        ]
        assert "pelayanan.calendar._holidays_indonesia" in modules

    def test_audit_verify_loads_no_workflow_machinery(self) -> None:
        """`pelayanan audit verify` needs keys and stores, not SOPs, calendars or plots."""
        modules = _modules_after("audit", "verify", "--help")
        assert set(_heavy(modules)) <= {"cryptography", "rich"}
        assert not [m for m in modules if m.startswith(("pelayanan.sop", "pelayanan.privacy"))]

    def test_group_help_loads_only_its_group(self) -> None:
        """`pelayanan sop --help` imports the sop commands' module and no other command module."""
        modules = _modules_after("sop", "--help")
        commands = {m for m in modules if m.startswith("pelayanan.cli._")}
        assert "pelayanan.cli._sop" in commands
        assert not commands & {f"pelayanan.cli._{n}" for n in ("audit", "demo", "report", "keys")}


class TestRegistry:
    @pytest.mark.parametrize("name", sorted(COMMANDS))
    def test_row_loads_its_command(self, name: str) -> None:
        """Each row of the table names a click command of that name, with a help line."""
        command = COMMANDS[name].load()
        assert isinstance(command, click.Command)
        assert command.name == name
        assert COMMANDS[name].short_help

    def test_help_lists_every_command(self) -> None:
        """The top-level help lists every command of the table with its help line."""
        result = CliRunner().invoke(cli, ["--help"], terminal_width=200)
        assert result.exit_code == 0
        for name, row in COMMANDS.items():
            assert f"  {name}  " in result.output
            assert row.short_help in result.output

    def test_subgroup_can_be_lazy(self) -> None:
        """A group below the top level loads its commands the same way (e.g. `audit witness`)."""

        @click.group(cls=LazyGroup, lazy={"calendar": COMMANDS["calendar"]})
        def outer() -> None:
            """Outer."""

        listed = CliRunner().invoke(outer, ["--help"])
        assert "calendar  Working calendars" in listed.output
        result = CliRunner().invoke(
            outer,
            ["calendar", "deadline", "--start", "2026-03-17T10:00:00+07:00", "--working-days", "3"],
        )
        assert result.exit_code == 0, result.output
        assert result.output.startswith("2026-03-27T16:30:00+07:00")

    def test_unknown_command_is_a_usage_error(self) -> None:
        """A misspelt command exits 2, as click reports it."""
        result = CliRunner().invoke(cli, ["audti"])
        assert result.exit_code == 2
        assert "No such command 'audti'" in result.output

    def test_not_a_command_is_refused(self) -> None:
        """A table row that points at something other than a click command says so."""
        with pytest.raises(TypeError, match="is not a click command"):
            LazyCommand("pelayanan.cli._main", "main", "help").load()
