"""How the ``pelayanan report`` commands write: the output options, CSV tables, language,
the directory, the IKM rules and the quality configuration.

CSV: ``--format csv [--table NAME|all]``.
One table goes to standard output or ``-o FILE``; ``--table all -o DIR`` writes
``DIR/NAME.csv`` for every table (the folder is created when missing; an existing CSV in
it is replaced only with ``--force``).  The tables themselves are built by
`pelayanan.reports.tables`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import click

from pelayanan.cli._common import (
    EXIT_BAD_INPUT,
    fail,
    fail_all,
    file_option,
    force_option,
    format_option,
    output_option,
    write_output,
)
from pelayanan.cli._report_common import (
    ReplayOptions,
    check_report_output,
    read_config,
    write_report,
)
from pelayanan.exceptions import ConfigurationError, ReportError
from pelayanan.reports.directory import Directory, load_directory
from pelayanan.reports.ikm import RULE_SET_NAMES, RuleSet, rule_set
from pelayanan.reports.ikm_rules import load_rules
from pelayanan.reports.quality import DEFAULT_QUALITY, QualityConfig
from pelayanan.reports.tables import Table, pick_table, render_csv
from pelayanan.reports.wording import LANGUAGES

__all__ = [
    "FOLDER_HELP",
    "ReportOutput",
    "check_table_choice",
    "directory_option",
    "lang_option",
    "read_directory",
    "read_quality_config",
    "read_rules",
    "report_output_options",
    "rules_option",
    "table_option",
    "write_report_tables",
    "write_tables",
]

#: The ``-o`` help of commands that can write a folder of tables.
FOLDER_HELP = "With --table all: a folder to write one NAME.csv per table into."
#: The ``--table`` value that writes every table.
ALL = "all"


def table_option(names: Sequence[str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Return ``--table NAME`` (parameter ``table``) choosing among *names* and ``all``."""
    return click.option(
        "--table",
        type=click.Choice([*names, ALL]),
        default=None,
        help="With --format csv: print this table (default: the first), or with 'all' and "
        "-o DIR write every table as DIR/NAME.csv.",
    )


def check_table_choice(output_format: str, table: str | None, output: str | None) -> None:
    """End the command (exit 2) when ``--table`` and ``-o`` do not go together.

    Called before the replay, so a mistake costs nothing.
    """
    if table is not None and output_format != "csv":
        fail("--table goes with --format csv", EXIT_BAD_INPUT)
    if table == ALL and output is None:
        fail("--table all writes one CSV per table: add -o DIR (a folder)", 2)
    if output is not None and table != ALL and Path(output).is_dir():
        fail(f"-o {output}: is a folder; a folder is written only with --table all", 2)


def write_tables(
    tables: Sequence[Table],
    table: str | None,
    output: str | None,
    write: Callable[[str, str | None], None] | None = None,
    **protect: Any,
) -> None:
    """Write the chosen table (or every table, into the folder *output*) as CSV.

    Args:
        tables: the report's tables; the first is the default.
        table: ``--table`` (a name, ``all`` or ``None``).
        output: ``-o`` (a file, a folder with ``all``, or ``None`` for stdout).
        write: how to write one text to a file or stdout (default: `write_output` with
            *protect*).
        **protect: the keyword arguments of `write_output` (``force``, ``db``, ...).
    """

    def plain(text: str, target: str | None) -> None:
        write_output(text, target, **protect)

    emit = write if write is not None else plain
    if table != ALL:
        emit(render_csv(pick_table(tables, table or tables[0].name)), output)
        return
    assert output is not None  # check_table_choice requires -o with all
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        fail(f"-o {output}: --table all needs a folder, and this is a file", 2)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"cannot create the folder {output}: {exc.strerror}", 1)
    for each in tables:
        emit(render_csv(each), str(folder / f"{each.name}.csv"))


def lang_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--lang id|en`` (parameter ``lang``): the language of the text and HTML forms."""
    return click.option(
        "--lang",
        type=click.Choice(LANGUAGES),
        default=LANGUAGES[0],
        show_default=True,
        help="Language of the text and HTML report: Indonesian or English.",
    )(func)


def directory_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--directory FILE`` (parameter ``directory_file``): officers' names and units."""
    return file_option(
        "--directory",
        "directory_file",
        help_text="A YAML/JSON/TOML file mapping NIPs to names and units (never stored in the "
        "log): the text and HTML report name officers.",
    )(func)


def read_directory(file: str | None) -> Directory | None:
    """Load ``--directory FILE``; a bad file ends the command (exit 2), one line per problem."""
    if file is None:
        return None
    try:
        return load_directory(file)
    except ConfigurationError as exc:
        fail_all((p.render() for p in exc.problems), EXIT_BAD_INPUT)


def read_quality_config(file: str | None) -> QualityConfig:
    """Load ``--config FILE`` (the quality index's weights), else return the default; a bad
    file ends the command (exit 2), one line per problem naming its file, line and key path.
    """
    if file is None:
        return DEFAULT_QUALITY
    try:
        document, lines = read_config(file)
        return QualityConfig.from_mapping(document, source=file, lines=lines)
    except ConfigurationError as exc:
        fail_all((p.render() for p in exc.problems), EXIT_BAD_INPUT)


def rules_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--rules 2017|2004|FILE`` (parameter ``rules_name``): the IKM rule set."""
    return click.option(
        "--rules",
        "rules_name",
        default="2017",
        show_default=True,
        metavar="2017|2004|FILE",
        help="IKM rule set: PermenPANRB 14/2017, KEP/25/M.PAN/2/2004, or a rules file "
        "(YAML, JSON or TOML: unsur, weights, bands; docs/ikm.md).",
    )(func)


def read_rules(name: str) -> RuleSet:
    """Return the rule set ``--rules`` names; a bad file ends the command (exit 2).

    Each problem of a rules file is its own ``error: FILE:LINE: key.path: message`` line.
    """
    try:
        return rule_set(name) if name in RULE_SET_NAMES else load_rules(name)
    except ConfigurationError as exc:
        fail_all((p.render() for p in exc.problems), EXIT_BAD_INPUT)
    except ReportError as exc:
        fail(str(exc), EXIT_BAD_INPUT)


def write_report_tables(
    tables: Sequence[Table],
    table: str | None,
    output: str | None,
    options: ReplayOptions,
    *,
    force: bool,
) -> None:
    """Write the chosen CSV table(s) of a report, never onto the store, its keys or an input."""

    def write(text: str, target: str | None) -> None:
        write_report(text, target, options, force=force)

    write_tables(tables, table, output, write)


@attrs.frozen
class ReportOutput:
    """How a replaying report writes, as `report_output_options` gathers it.

    Attributes:
        format: ``--format``.
        lang: ``--lang``.
        table: ``--table`` (``None``: the first table).
        output: ``-o`` (``None``: standard output).
        force: ``--force``.
        directory_file: ``--directory`` (``None``: not given, or not offered).
    """

    format: str
    lang: str
    table: str | None
    output: str | None
    force: bool
    directory_file: str | None = None

    def check_choice(self) -> None:
        """End the command (exit 2) when ``--table`` and ``-o`` do not go together."""
        check_table_choice(self.format, self.table, self.output)

    def check_target(self, options: ReplayOptions) -> None:
        """End the command (exit 2) now if ``-o`` may not be written (a folder of tables is
        checked file by file as it is written)."""
        if self.table != ALL:
            check_report_output(self.output, options, force=self.force)

    def write(self, text: str, options: ReplayOptions) -> None:
        """Write the report *text* to ``-o`` or standard output."""
        write_report(text, self.output, options, force=self.force)

    def write_tables(self, tables: Sequence[Table], options: ReplayOptions) -> None:
        """Write the chosen CSV table, or every table into the ``-o`` folder."""
        write_report_tables(tables, self.table, self.output, options, force=self.force)

    def emit(
        self,
        options: ReplayOptions,
        *,
        tables: Callable[[], Sequence[Table]],
        json: Callable[[], str],
        text: Callable[[], str],
    ) -> None:
        """Write the report in the chosen format: its CSV *tables*, its *json* or its *text*
        (each called only when chosen)."""
        if self.format == "csv":
            self.write_tables(tables(), options)
        else:
            self.write(json() if self.format == "json" else text(), options)


def report_output_options(
    formats: Sequence[str], tables: Sequence[str], *, directory: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Return the decorator adding a replaying report's output options.

    They are ``--format`` (*formats*, the first the default), ``--lang``, ``--directory``
    (when *directory*), ``--table`` (*tables* and ``all``), ``-o`` (a file, or a folder
    with ``--table all``) and ``--force``; the command receives them gathered in one
    keyword argument, ``out`` (a `ReportOutput`).
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def gathered(
            *,
            output_format: str,
            lang: str,
            table: str | None,
            output: str | None,
            force: bool,
            directory_file: str | None = None,
            **kwargs: Any,
        ) -> Any:
            out = ReportOutput(output_format, lang, table, output, force, directory_file)
            return func(out=out, **kwargs)

        options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
            format_option(*formats),
            lang_option,
            *([directory_option] if directory else []),
            table_option(tables),
            output_option(folder=FOLDER_HELP),
            force_option,
        ]
        command: Callable[..., Any] = gathered
        for option in reversed(options):
            command = option(command)
        return command

    return decorate
