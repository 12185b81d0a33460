"""The ``pelayanan`` command group, with its subcommands loaded on first use.

`COMMANDS` names every top-level command, the module and attribute that define it, and its
one-line help.  ``pelayanan --help`` prints that table without importing any command
module; ``pelayanan audit verify`` imports only `pelayanan.cli._audit` (and what it
needs).  So a command's heavy dependencies (the state machine, cryptography, plotting,
database drivers, holiday data, rich) load only when that command runs.

To add a top-level command or group, add one row to `COMMANDS`.  To add a subcommand to an
existing group, decorate it with ``@<group>.command(...)`` in that group's module (or
``<group>.add_command(...)`` there), as before: the group object is the module's own.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, NoReturn

import click

from pelayanan import __version__
from pelayanan.cli._collector import tune_collector

__all__ = [
    "COMMANDS",
    "EXIT_BAD_INPUT",
    "EXIT_FAILED_CHECK",
    "LazyCommand",
    "LazyGroup",
    "cli",
    "error_line",
    "example",
    "main",
]

#: Exit status of a check that ran and failed (a log that does not verify, a bad SOP).
EXIT_FAILED_CHECK = 1
#: Exit status for usage errors and bad input (missing files and refused outputs included).
EXIT_BAD_INPUT = 2


def error_line(message: str) -> str:
    """Return *message* as the convention's one stderr line: ``error: ...`` on one line."""
    text = " ".join(message.split())
    return text if text.startswith("error: ") else f"error: {text}"


def example(*commands: str) -> str:
    """Return a command's help epilog: ``Example:`` and *commands*, one per line."""
    return "\b\nExample:\n" + "\n".join(f"  {command}" for command in commands)


def _exit_with(message: str, code: int) -> NoReturn:
    click.echo(error_line(message), err=True)
    sys.exit(code)


class LazyCommand:
    """Where a top-level command lives, and its help line for ``pelayanan --help``.

    Args:
        module: the module that defines the command (imported on first use).
        attribute: the command object's name in that module.
        short_help: the one line shown in the command list.
    """

    __slots__ = ("attribute", "module", "short_help")

    def __init__(self, module: str, attribute: str, short_help: str) -> None:
        self.module = module
        self.attribute = attribute
        self.short_help = short_help

    def load(self) -> click.Command:
        """Import the module and return its command object.

        Returns:
            The click command or group.

        Raises:
            TypeError: the attribute is not a click command.
        """
        command = getattr(importlib.import_module(self.module), self.attribute)
        if not isinstance(command, click.Command):
            msg = f"{self.module}.{self.attribute} is not a click command"
            raise TypeError(msg)
        return command


#: The top-level commands: name -> where it lives and its help line (one row each).
COMMANDS: dict[str, LazyCommand] = {
    "audit": LazyCommand(
        "pelayanan.cli._audit", "audit_group", "Verify, export and prove the audit log."
    ),
    "calendar": LazyCommand(
        "pelayanan.cli._calendar",
        "calendar_group",
        "Working calendars: deadlines and non-working days.",
    ),
    "demo": LazyCommand(
        "pelayanan.cli._demo",
        "demo_command",
        "Run a simulated stretch of service-desk work and verify its audit log.",
    ),
    "keys": LazyCommand(
        "pelayanan.cli._keys", "keys_group", "Manage Ed25519 ledger keys and their keyring."
    ),
    "privacy": LazyCommand(
        "pelayanan.cli._privacy",
        "privacy_group",
        "Answer data-subject requests: list, show, erase; legal holds; open data.",
    ),
    "report": LazyCommand(
        "pelayanan.cli._report",
        "report_group",
        "Accountability figures: SLA and flow, at-risk, IKM, quality index, Open311.",
    ),
    "sop": LazyCommand(
        "pelayanan.cli._sop", "sop_group", "Check, draw, simulate SOP files; print the schema."
    ),
    "store": LazyCommand(
        "pelayanan.cli._store", "store_group", "Inspect stores; import a JSONL audit export."
    ),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported when first asked for.

    Args:
        lazy: the subcommands by name, loaded on first `get_command`.
        **kwargs: passed on to `click.Group`.
    """

    def __init__(self, *, lazy: dict[str, LazyCommand], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        """List the loaded and the not-yet-loaded subcommands, sorted."""
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Return the subcommand *cmd_name*, importing its module the first time."""
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.add_command(self.lazy[cmd_name].load(), cmd_name)
        return super().get_command(ctx, cmd_name)

    def main(  # type: ignore[override]
        self, args: Any = None, prog_name: str | None = None, **extra: Any
    ) -> Any:
        """Run the command line, turning every error into one ``error:`` line on stderr.

        Usage errors (unknown option or command, missing or invalid value, missing
        file) exit with status 2; so does a `PelayananError` no command caught (bad
        input); an interrupted command exits with status 1.  A `--help` or a success
        exits with status 0.  With ``standalone_mode=False`` click's own behaviour is kept.
        """
        if not extra.get("standalone_mode", True):
            return super().main(args, prog_name, **extra)
        extra["standalone_mode"] = False
        try:
            code = super().main(args, prog_name, **extra)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            _exit_with(exc.format_message() + hint, exc.exit_code)
        except click.ClickException as exc:
            _exit_with(exc.format_message(), exc.exit_code)
        except (click.Abort, EOFError, KeyboardInterrupt):
            _exit_with("interrupted", EXIT_FAILED_CHECK)
        except Exception as exc:
            # Imported here: the help screens load nothing beyond this module.
            from pelayanan.exceptions import PelayananError  # noqa: PLC0415

            if not isinstance(exc, PelayananError):
                raise
            _exit_with(str(exc), EXIT_BAD_INPUT)
        sys.exit(code if isinstance(code, int) else 0)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Write the command list from the known help lines, importing nothing."""
        rows: list[tuple[str, str]] = []
        for name in self.list_commands(ctx):
            if name in self.lazy:
                # The table's line, loaded or not, so the help reads the same either way.
                rows.append((name, self.lazy[name].short_help))
                continue
            command = self.commands[name]
            if not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.version_option(__version__, prog_name="pelayanan")
def cli() -> None:
    """pelayanan: SOP workflow, SLA clocks and a verifiable audit log for public services."""


def main() -> None:
    """Run the command line."""
    tune_collector()
    cli()
