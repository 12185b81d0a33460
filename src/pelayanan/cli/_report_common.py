"""Shared plumbing of the ``pelayanan report`` commands that replay a store's log.

The CLI opens the store, picks the ledger, and hands the entry stream to
`pelayanan.reports.replay.replay_verified`, which verifies while it replays.  A log that
does not verify ends the command with exit status 1 and one line
``error: the log does not verify: entry N: reason``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVarTuple, cast

import attrs
import click

from pelayanan._config import read_config_file
from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.keyring import TrustedKey
from pelayanan.audit.keys import VerifierKey
from pelayanan.audit.merkle import verify_consistency
from pelayanan.calendar import WorkCalendar, calendar_from_config, indonesian_government_calendar
from pelayanan.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED_CHECK,
    OutputGuard,
    check_output,
    db_option,
    fail,
    fail_all,
    file_option,
    key_folder,
    keys_option,
    load_trusted_keys,
    open_db,
    output_file,
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
    ReportStateError,
    VerificationError,
)
from pelayanan.reports.clocks import ClockLogFold, ClockOutcomes, clock_outcomes
from pelayanan.reports.replay import Fold, LogBasis, replay_verified
from pelayanan.reports.settled import SettledRequests
from pelayanan.reports.state import SavedReplay, dump_state, load_state, state_config, state_key
from pelayanan.sop import SOP, load_sop
from pelayanan.store import Store, read_snapshot, store_consistency_proof

__all__ = [
    "EXIT_BAD_INPUT",
    "ReplayOptions",
    "at_option",
    "check_report_output",
    "clock_fold",
    "load_calendar",
    "load_calendars",
    "load_sops",
    "parse_date",
    "parse_instant",
    "read_config",
    "replay_db",
    "replay_folds",
    "replay_options",
    "verdicts_for",
    "write_report",
]

#: The file in the key folder that holds the key of the report state files.
STATE_KEY_FILE = "report-state.key"

Folds = TypeVarTuple("Folds")

#: The parameter names of the options `replay_options` adds, in their order.
_REPLAY_PARAMS = (
    "db", "trusted", "keys_dir", "ledger", "checkpoint_file", "sop_files", "calendar_file",
    "state_file", "state_key_file",
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
        file_option(
            "--checkpoint",
            "checkpoint_file",
            help_text="A signed checkpoint file: report on the log up to it (same figures "
            "every time).",
        ),
        file_option(
            "--sop",
            "sop_files",
            help_text="An SOP file the requests ran under (repeatable). Default: the bundled SOPs.",
            repeatable=True,
        ),
        click.option(
            "--calendar",
            "calendar_file",
            multiple=True,
            metavar="[NAME=]FILE",
            help="A working-calendar YAML file (default: the Indonesian government calendar); "
            "NAME=FILE gives the calendar the log's SLA clocks name NAME (repeatable).",
        ),
        file_option(
            "--state",
            "state_file",
            help_text="A saved report state: replay only the entries after the checkpoint it "
            "covers, then save the new state there (a state that does not fit is ignored "
            "with a note and the report rebuilt).",
        ),
        file_option(
            "--state-key",
            "state_key_file",
            help_text="The secret key that authenticates --state files (default: "
            "report-state.key in the key folder, made on first use).",
        ),
    ]
    command: Callable[..., Any] = gathered
    for option in reversed(options):
        command = option(command)
    return command


#: The ``--at INSTANT`` option every replaying report takes (the parameter ``at_text``).
at_option = click.option(
    "--at",
    "at_text",
    metavar="ISO8601",
    help="The instant to report at: later entries left out, open requests aged and "
    "running clocks judged at it (default: the newest checkpoint's time).",
)


@attrs.define(eq=False)
class ReplayOptions:
    """The parsed replay options of one command (the click options, in their order); the
    SOPs and calendars are loaded on construction."""

    db: str
    trusted: tuple[str, ...]
    keys_dir: str | None
    ledger: str | None
    checkpoint_file: str | None
    sop_files: tuple[str, ...]
    calendar_file: Sequence[str] | str | None
    state_file: str | None = None
    state_key_file: str | None = None
    sops: list[SOP] = attrs.field(init=False)
    calendar: WorkCalendar = attrs.field(init=False)
    clock_calendars: dict[str, WorkCalendar] = attrs.field(init=False)
    #: The files read besides the store, which an output file may not replace.
    input_files: tuple[str, ...] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.sops = load_sops(self.sop_files)
        files = self.calendar_file
        calendars = (files,) if isinstance(files, str) else files or ()
        self.calendar, self.clock_calendars = load_calendars(calendars)
        self.input_files = (
            *self.sop_files,
            *map(_calendar_file, calendars),
            *(f for f in (self.state_file, self.state_key_file) if f is not None),
        )

    def also_reads(self, *files: str | None) -> None:
        """Add the command's own input *files* (``None``: not given) to `input_files`."""
        self.input_files = (*self.input_files, *(f for f in files if f is not None))


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
    with _replaying(options) as (store, ledger, keys, at):
        return _replay_all(store, ledger, keys, folds, at)


@contextlib.contextmanager
def _replaying(
    options: ReplayOptions,
) -> Iterator[tuple[Store, str, list[VerifierKey | TrustedKey], SignedCheckpoint | None]]:
    """Open the store on one snapshot and pick the ledger; end the command on a failure.

    Yields:
        The store, the ledger, the trusted keys and the ``--checkpoint`` note (if any).
    """
    try:
        keys = load_trusted_keys(options.trusted, options.keys_dir, options.db)
        at = _read_checkpoint(options.checkpoint_file)
    except PelayananError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    store = open_db(options.db, read_only=True)
    try:
        with read_snapshot(store):
            yield store, _pick_ledger(options, store.ledgers(), at), keys, at
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


def _replay_all(
    store: Store,
    ledger: str,
    keys: Sequence[VerifierKey | TrustedKey],
    folds: Sequence[Fold],
    at: SignedCheckpoint | None,
) -> LogBasis:
    return replay_verified(
        ledger,
        ((e.seq, e.data) for e in store.entries(ledger)),
        store.iter_checkpoints(ledger),
        keys,
        folds,
        at=at,
    )


def replay_folds(
    options: ReplayOptions,
    folds: tuple[*Folds],
    *,
    command: str,
    settings: Mapping[str, object],
) -> tuple[LogBasis, tuple[*Folds]]:
    """Replay the store's log into *folds*, carrying on from ``--state`` when it fits.

    Without ``--state`` this is `replay_db`.  With it, a saved state bound to this
    command, its *settings*, the calendars and SOPs, the library version and a
    checkpoint the log still extends (consistency proof) is loaded, and only the
    entries after that checkpoint are verified and folded; any other state is ignored
    with a note on stderr and the whole log replayed.  Either way the new state is
    saved to the file before any figure is released from the folds.

    Returns:
        The basis and the folds that hold the figures (the saved ones when resumed).
    """
    if options.state_file is None:
        return replay_db(options, cast("Sequence[Fold]", folds)), folds
    if options.checkpoint_file is not None:
        fail("--state carries the log forward; it cannot be used with --checkpoint", EXIT_BAD_INPUT)
    key = _state_key(options)
    references: list[WorkCalendar | SOP] = [
        options.calendar,
        *options.clock_calendars.values(),
        *options.sops,
    ]
    config = state_config(
        command,
        settings,
        calendar=options.calendar.fingerprint,
        clock_calendars={name: c.fingerprint for name, c in options.clock_calendars.items()},
        sops=sorted(sop.content_hash for sop in options.sops),
    )
    with _replaying(options) as (store, ledger, keys, _):
        result: tuple[LogBasis, tuple[*Folds]] | None = None
        saved = _load_saved(options.state_file, folds, key, config, ledger, references)
        if saved is not None:
            result = _resume(store, ledger, keys, saved, options.state_file)
        if result is None:
            result = (_replay_all(store, ledger, keys, cast("Sequence[Fold]", folds), None), folds)
        for fold in result[1]:
            if isinstance(fold, SettledRequests):
                fold.settle()  # the finished requests are kept as their sums
        try:
            data = dump_state(result[0], result[1], config=config, key=key)
        except ReportStateError as exc:
            _note(options.state_file, f"not saved: {exc}")
            return result
    with output_file(
        options.state_file, force=True, db=options.db, keys_dir=options.keys_dir
    ) as handle:
        handle.write(data)
    return result


def _note(state_file: str, what: str) -> None:
    click.echo(f"note: --state {state_file}: {what}", err=True)


def _state_key(options: ReplayOptions) -> bytes:
    """Return the key of the state files (``--state-key``, else in the key folder)."""
    path = options.state_key_file
    if path is None:
        path = str(key_folder(options.keys_dir, options.db) / STATE_KEY_FILE)
    try:
        key = state_key(path, create=True)
    except ReportStateError as exc:
        fail(f"{exc}; give --state-key FILE", EXIT_BAD_INPUT)
    assert key is not None
    return key


def _load_saved(  # noqa: PLR0917 (the state's inputs, passed through)
    state_file: str,
    folds: tuple[object, ...],
    key: bytes,
    config: str,
    ledger: str,
    references: Sequence[WorkCalendar | SOP],
) -> SavedReplay | None:
    """Return the saved state if it serves this run; else note why and return ``None``."""
    try:
        data = Path(state_file).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        fail(f"cannot read {state_file}: {exc.strerror}", EXIT_BAD_INPUT)
    try:
        saved = load_state(data, config=config, key=key, ledger=ledger, references=references)
        kinds = [type(fold) for fold in saved.folds]
        if kinds != [type(fold) for fold in folds]:
            raise ReportStateError("it holds the figures of another report")
    except ReportStateError as exc:
        _note(state_file, f"ignored: {exc}; the report is rebuilt from the whole log")
        return None
    return saved


def _resume(
    store: Store,
    ledger: str,
    keys: Sequence[VerifierKey | TrustedKey],
    saved: SavedReplay,
    state_file: str,
) -> tuple[LogBasis, Any] | None:
    """Carry the saved replay on to the newest checkpoint; ``None`` (noted) if it cannot."""
    covered = saved.resume.checkpoint.checkpoint
    try:
        # The log must still extend the checkpoint the state covers.
        proof = store_consistency_proof(store, covered.size, None, ledger)
        latest = store.latest_checkpoint(ledger)
        newest = SignedCheckpoint.parse(latest or "").checkpoint
        verify_consistency(covered.size, newest.size, covered.root, newest.root, proof.hashes)
    except PelayananError as exc:
        what = f"the log no longer extends the checkpoint it covers (size {covered.size}): {exc}"
        _note(state_file, f"ignored: {what}; the report is rebuilt from the whole log")
        return None
    folds = saved.folds
    try:
        log = replay_verified(
            ledger,
            ((e.seq, e.data) for e in store.entries(ledger, covered.size)),
            store.iter_checkpoints(ledger, min_size=covered.size),
            keys,
            folds,
            resume=saved.resume,
            first_time=saved.first_time,
        )
    except (VerificationError, ReportStateError) as exc:
        _note(state_file, f"ignored: {exc}; the report is rebuilt from the whole log")
        return None
    return log, folds


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


def _guard(options: ReplayOptions, force: bool) -> OutputGuard:
    """Return what a report's output may not replace: the store, its keys, every input."""
    inputs = [*options.trusted, *options.input_files]
    if options.checkpoint_file is not None:
        inputs.append(options.checkpoint_file)
    return {"force": force, "db": options.db, "keys_dir": options.keys_dir, "inputs": inputs}


def check_report_output(output: str | None, options: ReplayOptions, *, force: bool) -> None:
    """End the command (exit 2) now if *output* may not be written (see `write_report`)."""
    if output is not None:
        check_output(output, **_guard(options, force))


def write_report(text: str, output: str | None, options: ReplayOptions, *, force: bool) -> None:
    """Write a report to *output* (or stdout), never onto the store, its keys or an input."""
    write_output(text, output, **_guard(options, force))
