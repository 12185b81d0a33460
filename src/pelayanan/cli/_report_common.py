"""Shared plumbing of the ``pelayanan report`` commands that replay a store's log.

The CLI opens the store, picks the ledger, and hands the entry stream to
`pelayanan.reports.replay.replay_verified`, which verifies while it replays.  A log that
does not verify ends the command with exit status 1 and one line
``error: the log does not verify: entry N: reason``.
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
    EXIT_FAILED_CHECK,
    check_output,
    db_option,
    fail,
    fail_all,
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
    "read_config",
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
        db_option(),
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
        fail(str(exc), EXIT_BAD_INPUT)


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
                fail(f"--calendar {name}= is given twice", EXIT_BAD_INPUT)
            named[name] = load_calendar(file)
        else:
            plain.append(value)
    if len(plain) > 1:
        fail("give one --calendar FILE (and NAME=FILE for named calendars)", EXIT_BAD_INPUT)
    return load_calendar(plain[0] if plain else None), named


def read_config(file: str) -> tuple[Any, dict[str, int]]:
    """Read a configuration file by its suffix (``.toml``, ``.json``), else as YAML.

    Raises:
        ConfigurationError: the file cannot be read or parsed (one problem, one line).
    """
    suffix = Path(file).suffix.lower()
    return read_config_file(file, suffix=suffix if suffix in {".toml", ".json"} else ".yaml")


def load_calendar(file: str | None) -> WorkCalendar:
    """Load a calendar YAML file, or return the default government calendar."""
    if file is None:
        return indonesian_government_calendar()
    try:
        document, lines = read_config(file)
        if not isinstance(document, dict):
            fail(f"{file}: a calendar file holds a mapping", EXIT_BAD_INPUT)
        return calendar_from_config(document, source=file, lines=lines)
    except ConfigurationError as exc:
        # Each problem already names the file, line and key path.
        fail_all((problem.render() for problem in exc.problems), EXIT_BAD_INPUT)
    except PelayananError as exc:
        fail(f"{file}: {exc}", EXIT_BAD_INPUT)


def parse_date(text: str | None, what: str) -> dt.date | None:
    """Parse a ``YYYY-MM-DD`` option; bad input exits with status 2."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{what} {text!r} is not a date; write YYYY-MM-DD", EXIT_BAD_INPUT)


def parse_instant(text: str | None) -> dt.datetime | None:
    """Parse an ISO 8601 instant with an offset; bad input exits with status 2."""
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        fail(f"--at {text!r} is not ISO 8601; write e.g. 2026-07-20T10:00+07:00", EXIT_BAD_INPUT)
    if value.tzinfo is None:
        fail(f"--at {text!r} has no offset; add one, e.g. +07:00", EXIT_BAD_INPUT)
    return value


def replay_db(options: ReplayOptions, folds: Sequence[Fold]) -> LogBasis:
    """Verify the store's ledger and replay it into *folds*; refuse (exit 1) if it fails."""
    try:
        keys = load_trusted_keys(options.trusted, options.keys_dir, options.db)
        at = _read_checkpoint(options.checkpoint_file)
    except PelayananError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    store = open_db(options.db, read_only=True)
    try:
        with read_snapshot(store):
            ledger = _pick_ledger(options, store.ledgers(), at)
            return replay_verified(
                ledger,
                ((e.seq, e.data) for e in store.entries(ledger)),
                store.iter_checkpoints(ledger),
                keys,
                folds,
                at=at,
            )
    except VerificationError as exc:
        where = f"entry {exc.seq}: " if exc.seq is not None else ""
        suffix = f" (ledger {exc.ledger})" if exc.ledger else ""
        fail(f"the log does not verify: {where}{exc.reason}{suffix}", EXIT_FAILED_CHECK)
    except ReportError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    except PelayananError as exc:
        fail(f"the log cannot be verified: {exc}", EXIT_FAILED_CHECK)
    finally:
        store.close()


def _read_checkpoint(file: str | None) -> SignedCheckpoint | None:
    """Read the ``--checkpoint`` file, if one is given; exit 2 when it cannot be read."""
    if file is None:
        return None
    try:
        text = Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}", EXIT_BAD_INPUT)
    return SignedCheckpoint.parse(text)


def _pick_ledger(
    options: ReplayOptions, ledgers: Sequence[str], at: SignedCheckpoint | None
) -> str:
    """Return the ledger to report on: ``--ledger``, the checkpoint's, or the only one."""
    if options.ledger is not None:
        if options.ledger not in ledgers:
            fail(f"{options.db}: no ledger {options.ledger!r}", EXIT_BAD_INPUT)
        return options.ledger
    if at is not None:
        return at.checkpoint.ledger
    if len(ledgers) != 1:
        held = f"several ledgers ({', '.join(ledgers)}); choose --ledger" if ledgers else "none"
        fail(f"{options.db}: the store holds {held}", EXIT_BAD_INPUT)
    return ledgers[0]


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
            f"the log's SLA clocks ran on calendar {exc.calendar!r} with fingerprint "
            f"{exc.recorded}, but {given}: pass the calendar that fingerprint identifies (same "
            f"definition and holidays data version) with --calendar FILE or "
            f"--calendar {exc.calendar}=FILE",
            EXIT_FAILED_CHECK,
        )
    except CalendarError as exc:
        fail(f"the SLA clocks cannot be recomputed from the log: {exc}", EXIT_FAILED_CHECK)


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
