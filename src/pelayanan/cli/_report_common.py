"""Shared plumbing of the ``pelayanan report`` commands that replay a store's log.

The CLI opens the store, picks the ledger, and hands the entry stream to
`pelayanan.reports.replay.replay_verified`, which verifies while it replays.  A log that
does not verify ends the command with exit status 1, the reason on the first line.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from pelayanan._config import read_config_file
from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.calendar import WorkCalendar, calendar_from_config, indonesian_government_calendar
from pelayanan.cli._common import (
    EXIT_BAD_INPUT,
    check_output,
    fail,
    keys_option,
    load_trusted_keys,
    open_db,
    trusted_key_option,
    write_output,
)
from pelayanan.cli._demo import sop_path
from pelayanan.exceptions import (
    CalendarError,
    CalendarFingerprintError,
    ConfigurationError,
    PelayananError,
    ReportError,
    VerificationError,
)
from pelayanan.reports.clocks import ClockLogFold, ClockOutcomes, clock_outcomes
from pelayanan.reports.replay import Fold, LogBasis, replay_verified
from pelayanan.sop import SOP, load_sop
from pelayanan.store import read_snapshot

__all__ = [
    "EXIT_BAD_INPUT",
    "ReplayOptions",
    "check_report_output",
    "clock_fold",
    "load_calendar",
    "load_calendars",
    "load_sops",
    "parse_date",
    "parse_instant",
    "replay_db",
    "replay_options",
    "verdicts_for",
    "write_report",
]

#: The parameter names of the options `replay_options` adds, in their order.
_REPLAY_PARAMS = (
    "db", "trusted", "keys_dir", "ledger", "checkpoint_file", "sop_files", "calendar_file",
)  # fmt: skip


def replay_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the options every replaying report takes (store, keys, ledger, SOPs, calendar).

    The command receives them gathered in one keyword argument, ``replay`` (the raw values,
    in `_REPLAY_PARAMS` order); it loads them with ``ReplayOptions(*replay)`` when it is
    ready to, so its own cheap checks still come first.
    """

    @functools.wraps(func)
    def gathered(**kwargs: Any) -> Any:
        replay = tuple(kwargs.pop(name) for name in _REPLAY_PARAMS)
        return func(replay=replay, **kwargs)

    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        click.option(
            "--db",
            required=True,
            help="The store: a SQLite path, a postgresql:// URL or a ledger map.",
        ),
        trusted_key_option(
            "A public key PEM to trust (repeatable). Default: the keys in DB.keys/."
        ),
        keys_option("A key folder whose public keys to trust."),
        click.option("--ledger", help="The ledger to report on (default: the only one)."),
        click.option(
            "--checkpoint",
            "checkpoint_file",
            type=click.Path(dir_okay=False),
            help="A signed checkpoint file: report on the log up to it (same figures every time).",
        ),
        click.option(
            "--sop",
            "sop_files",
            multiple=True,
            type=click.Path(dir_okay=False),
            help="An SOP file the requests ran under (repeatable). Default: the bundled SOPs.",
        ),
        click.option(
            "--calendar",
            "calendar_file",
            multiple=True,
            metavar="[NAME=]FILE",
            help="A working-calendar YAML file (default: the Indonesian government calendar); "
            "NAME=FILE gives the calendar the log's SLA clocks name NAME (repeatable).",
        ),
    ]
    command: Callable[..., Any] = gathered
    for option in reversed(options):
        command = option(command)
    return command


class ReplayOptions:
    """The parsed replay options of one command."""

    def __init__(  # noqa: PLR0917 (mirrors the click options, in their order)
        self,
        db: str,
        trusted: tuple[str, ...],
        keys_dir: str | None,
        ledger: str | None,
        checkpoint_file: str | None,
        sop_files: tuple[str, ...],
        calendar_file: Sequence[str] | str | None,
    ) -> None:
        self.db = db
        self.trusted = trusted
        self.keys_dir = keys_dir
        self.ledger = ledger
        self.checkpoint_file = checkpoint_file
        self.sops = load_sops(sop_files)
        calendars = (calendar_file,) if isinstance(calendar_file, str) else calendar_file or ()
        self.calendar, self.clock_calendars = load_calendars(calendars)
        #: The files read besides the store, which an output file may not replace.
        self.input_files: tuple[str, ...] = (*sop_files, *map(_calendar_file, calendars))


def load_sops(files: Sequence[str]) -> list[SOP]:
    """Load the SOPs given, or the bundled example SOPs; bad files exit with status 2."""
    paths = [Path(f) for f in files] or sorted(sop_path("pengaduan").parent.glob("*.yaml"))
    try:
        return [load_sop(path) for path in paths]
    except PelayananError as exc:
        fail(f"error: {exc}", EXIT_BAD_INPUT)


_NAMED = re.compile(r"^([A-Za-z0-9_.:-]+)=(.+)$")


def _calendar_file(value: str) -> str:
    """Return the file a ``--calendar`` value names (``NAME=FILE`` or ``FILE``)."""
    match = _NAMED.match(value)
    return match.group(2) if match is not None and not Path(value).exists() else value


def load_calendars(values: Sequence[str]) -> tuple[WorkCalendar, dict[str, WorkCalendar]]:
    """Load the ``--calendar`` values: one plain FILE and any number of NAME=FILE.

    Returns:
        The report calendar (the plain FILE, else the government calendar), which the
        SLA replay also uses for every calendar name not given, and the named ones.
    """
    plain: list[str] = []
    named: dict[str, WorkCalendar] = {}
    for value in values:
        match = _NAMED.match(value)
        if match is not None and not Path(value).exists():
            name, file = match.groups()
            if name in named:
                fail(f"error: --calendar {name}= is given twice", EXIT_BAD_INPUT)
            named[name] = load_calendar(file)
        else:
            plain.append(value)
    if len(plain) > 1:
        fail("error: give one --calendar FILE (and NAME=FILE for named calendars)", 2)
    return load_calendar(plain[0] if plain else None), named


def load_calendar(file: str | None) -> WorkCalendar:
    """Load a calendar YAML file, or return the default government calendar."""
    if file is None:
        return indonesian_government_calendar()
    try:
        document, lines = read_config_file(file, suffix=".yaml")
        if not isinstance(document, dict):
            fail(f"error: {file}: a calendar file holds a mapping", EXIT_BAD_INPUT)
        return calendar_from_config(document, source=file, lines=lines)
    except ConfigurationError as exc:
        # Each problem already names the file, line and key path.
        fail("\n".join(f"error: {p.render()}" for p in exc.problems), EXIT_BAD_INPUT)
    except PelayananError as exc:
        fail(f"error: {file}: {exc}", EXIT_BAD_INPUT)


def parse_date(text: str | None, what: str) -> dt.date | None:
    """Parse a ``YYYY-MM-DD`` option; bad input exits with status 2."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"error: {what} {text!r} is not a date; write YYYY-MM-DD", EXIT_BAD_INPUT)


def parse_instant(text: str | None) -> dt.datetime | None:
    """Parse an ISO 8601 instant with an offset; bad input exits with status 2."""
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        fail(f"error: --at {text!r} is not ISO 8601; write e.g. 2026-07-20T10:00+07:00", 2)
    if value.tzinfo is None:
        fail(f"error: --at {text!r} has no offset; add one, e.g. +07:00", EXIT_BAD_INPUT)
    return value


def replay_db(options: ReplayOptions, folds: Sequence[Fold]) -> LogBasis:
    """Verify the store's ledger and replay it into *folds*; refuse (exit 1) if it fails."""
    store = open_db(options.db, read_only=True)
    try:
        with read_snapshot(store):
            keys = load_trusted_keys(options.trusted, options.keys_dir, options.db)
            at = None
            if options.checkpoint_file is not None:
                try:
                    text = Path(options.checkpoint_file).read_text(encoding="utf-8")
                except OSError as exc:
                    fail(f"error: cannot read {options.checkpoint_file}: {exc.strerror}", 2)
                at = SignedCheckpoint.parse(text)
            ledgers = store.ledgers()
            if options.ledger is not None:
                ledger = options.ledger
                if ledger not in ledgers:
                    fail(f"{options.db}: no ledger {ledger!r}", 1)
            elif at is not None:
                ledger = at.checkpoint.ledger
            elif len(ledgers) == 1:
                ledger = ledgers[0]
            elif not ledgers:
                fail(f"{options.db}: the store holds no ledger", 1)
            else:
                fail(f"{options.db}: several ledgers ({', '.join(ledgers)}); choose --ledger", 2)
            return replay_verified(
                ledger,
                ((e.seq, e.data) for e in store.entries(ledger)),
                store.iter_checkpoints(ledger),
                keys,
                folds,
                at=at,
            )
    except VerificationError as exc:
        where = f"entry {exc.seq}: " if exc.seq is not None else "unverifiable: "
        suffix = f" (ledger {exc.ledger})" if exc.ledger else ""
        fail(f"refused: the log does not verify: {where}{exc.reason}{suffix}", 1)
    except ReportError as exc:
        fail(f"error: {exc}", EXIT_BAD_INPUT)
    except PelayananError as exc:
        fail(f"refused: the log cannot be verified: {exc}", 1)
    finally:
        store.close()


def clock_fold(options: ReplayOptions, *, until: dt.datetime | None = None) -> ClockLogFold:
    """Return the fold that replays the SLA clocks on the calendars the options give.

    Each calendar the log names is the ``--calendar NAME=FILE`` given for it, else the
    report calendar.
    """
    return ClockLogFold(options.clock_calendars, default=options.calendar, until=until)


def verdicts_for(
    options: ReplayOptions, fold: ClockLogFold, *, as_of: dt.datetime | None = None
) -> ClockOutcomes:
    """Return the SLA clock verdicts and breach attribution recomputed from the replay.

    The calendars are those of `clock_fold`.  A calendar whose fingerprint is not the one
    the log recorded ends the command with exit status 1 and one line naming the recorded
    fingerprint.
    """
    try:
        return clock_outcomes(fold, as_of=as_of)
    except CalendarFingerprintError as exc:
        given = (
            f"the calendar given has fingerprint {exc.found}"
            if exc.found is not None
            else "no calendar of that name was given"
        )
        fail(
            f"refused: the log's SLA clocks ran on calendar {exc.calendar!r} with fingerprint "
            f"{exc.recorded}, but {given}: pass the calendar that fingerprint identifies (same "
            f"definition and holidays data version) with --calendar FILE or "
            f"--calendar {exc.calendar}=FILE",
            1,
        )
    except CalendarError as exc:
        fail(f"refused: the SLA clocks cannot be recomputed from the log: {exc}", 1)


def _report_inputs(options: ReplayOptions) -> list[str]:
    inputs = [*options.trusted, *options.input_files]
    if options.checkpoint_file is not None:
        inputs.append(options.checkpoint_file)
    return inputs


def check_report_output(output: str | None, options: ReplayOptions, *, force: bool) -> None:
    """End the command (exit 2) now if *output* may not be written (see `write_report`)."""
    if output is not None:
        check_output(
            output,
            force=force,
            db=options.db,
            keys_dir=options.keys_dir,
            inputs=_report_inputs(options),
        )


def write_report(text: str, output: str | None, options: ReplayOptions, *, force: bool) -> None:
    """Write a report to *output* (or stdout), never onto the store, its keys or an input."""
    write_output(
        text,
        output,
        force=force,
        db=options.db,
        keys_dir=options.keys_dir,
        inputs=_report_inputs(options),
    )
