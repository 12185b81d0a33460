"""Replay the verified audit log: the one door every report goes through.

A report never reads the mutable request tables.  It streams the ledger's entries
through the verifier (`pelayanan.audit.verify.LedgerVerifier`) and, in the same pass,
hands each parsed entry to one or more *folds* that accumulate the figures.  Figures are
released only when the whole stream (or the part up to a chosen checkpoint) verified:
`replay_verified` raises the verifier's `VerificationError` otherwise, and the caller
refuses with its reason.

Every report states the `ReportBasis` it was computed from: the ledger, the size and
Merkle root of the verified log, the calendar fingerprint and the rule versions.  Figures
depend only on the entries and the basis (never on the wall clock), so running a report
again on the same checkpoint yields the same bytes.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import attrs

from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.entry import parse_time
from pelayanan.audit.keyring import TrustedKey
from pelayanan.audit.keys import VerifierKey
from pelayanan.audit.kinds import TIME
from pelayanan.audit.verify import LedgerVerifier, ResumePoint
from pelayanan.calendar import WorkCalendar
from pelayanan.exceptions import SequenceError

__all__ = [
    "REPORT_ALGORITHM_VERSION",
    "Fold",
    "LogBasis",
    "ReportBasis",
    "entry_time",
    "replay_verified",
]

#: Version of the report algorithms (figure definitions, percentile rule, rounding).
#: Bumped whenever a figure would change for the same log.
REPORT_ALGORITHM_VERSION = "1"


class Fold(Protocol):
    """Something that accumulates figures from verified entries, in log order."""

    def feed(self, entry: Mapping[str, Any]) -> None:
        """Take the next verified entry (its parsed canonical JSON object)."""


@attrs.frozen
class LogBasis:
    """The verified log a report was computed from.

    Attributes:
        ledger: the ledger id.
        size: how many entries were verified and replayed.
        root: hex Merkle root (RFC 9162) of those entries.
        first_time: the time of the first entry (``None`` for an empty log).
        last_time: the time of the last replayed entry (``None`` for an empty log).
        checkpoint_time: the time of the newest checkpoint verified (``None``: none).
        resume: where a later replay can carry on from (``None``: the log does not end
            at a checkpoint).
    """

    ledger: str
    size: int
    root: str
    first_time: dt.datetime | None
    last_time: dt.datetime | None
    checkpoint_time: dt.datetime | None = None
    resume: ResumePoint | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def instant(self) -> dt.datetime | None:
        """Return the default instant of a report: the newest checkpoint's time.

        The last entry's time stands in when no checkpoint was verified.
        """
        return self.checkpoint_time if self.checkpoint_time is not None else self.last_time


@attrs.frozen
class ReportBasis:
    """What a report states about its inputs, so anyone can recompute it.

    Attributes:
        log: the verified log (ledger, size, root).
        calendar: the fingerprint of the working calendar used (``sha256:...``).
        estimated_dates: holiday dates in the log's span that the calendar only estimates.
        rules: rule versions used, by name (report algorithm, IKM rules, SOP versions...).
        at: the instant the report judges (open requests aged, running clocks judged).
    """

    log: LogBasis
    calendar: str
    estimated_dates: tuple[dt.date, ...] = ()
    rules: Mapping[str, str] = attrs.field(factory=dict)
    at: dt.datetime | None = None

    @classmethod
    def for_log(
        cls,
        log: LogBasis,
        calendar: WorkCalendar,
        *,
        rules: Mapping[str, str],
        at: dt.datetime | None = None,
    ) -> ReportBasis:
        """Return the basis of a report over *log* on *calendar* with *rules*.

        The estimated holiday dates are those the calendar estimates between the first
        and the last replayed entry (local dates).

        Args:
            log: the verified log.
            calendar: the report's calendar.
            rules: the rule versions used, by name.
            at: the instant judged (default: the newest checkpoint's time).

        Returns:
            The basis.
        """
        estimated: tuple[dt.date, ...] = ()
        if log.first_time is not None and log.last_time is not None:
            zone = calendar.zone
            estimated = calendar.estimated_dates_between(
                log.first_time.astimezone(zone).date(), log.last_time.astimezone(zone).date()
            )
        return cls(
            log,
            calendar.fingerprint,
            estimated,
            {"report": REPORT_ALGORITHM_VERSION, **rules},
            at if at is not None else log.instant,
        )

    def to_json_dict(self) -> dict[str, object]:
        """Return the basis as JSON-ready data (the instant judged first)."""
        return {
            "at": _iso(self.at),
            "ledger": self.log.ledger,
            "size": self.log.size,
            "root": self.log.root,
            "first_entry_time": _iso(self.log.first_time),
            "last_entry_time": _iso(self.log.last_time),
            "calendar": self.calendar,
            "estimated_dates": [d.isoformat() for d in self.estimated_dates],
            "rules": dict(sorted(self.rules.items())),
        }

    def render_lines(self) -> list[str]:
        """Return the basis as lines for a plain-text report."""
        lines = [
            f"at: {_iso(self.at) or '-'}",
            f"checkpoint: ledger {self.log.ledger}, size {self.log.size}, root {self.log.root}",
            f"calendar: {self.calendar}",
            "rules: " + ", ".join(f"{k} {v}" for k, v in sorted(self.rules.items())),
        ]
        if self.estimated_dates:
            dates = ", ".join(d.isoformat() for d in self.estimated_dates)
            lines.append(f"estimated holiday dates in span: {dates}")
        return lines


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def entry_time(entry: Mapping[str, Any]) -> dt.datetime:
    """Return the aware UTC instant a *verified* entry records.

    This is `pelayanan.audit.entry.parse_time` (the verifier has checked the shape).
    """
    return parse_time(entry[TIME])


def replay_verified(
    ledger: str,
    entries: Iterable[tuple[int, bytes]],
    checkpoints: Iterable[str],
    trusted_keys: Sequence[VerifierKey | TrustedKey],
    folds: Sequence[Fold],
    *,
    at: SignedCheckpoint | None = None,
    resume: ResumePoint | None = None,
    first_time: dt.datetime | None = None,
) -> LogBasis:
    """Verify a ledger and feed every verified entry to *folds*, in one pass.

    The folds see entries as they are verified, but the caller must only use their
    figures when this function returns: a failure anywhere (including the end-of-log
    checks) raises, and the report is refused.

    Args:
        ledger: the ledger id.
        entries: ``(seq, canonical bytes)`` in log order.
        checkpoints: the ledger's signed checkpoint notes, ordered by tree size.
        trusted_keys: the public keys whose checkpoint signatures are accepted.
        folds: the accumulators to feed.
        at: replay only up to this signed checkpoint (its size and root must match the
            log: a report "as of" a checkpoint an auditor saved).
        resume: carry on from an earlier replay that ended here: *entries* start at
            its size, *checkpoints* may hold only those beyond it, and *folds* are that
            replay's folds (see `pelayanan.reports.state`).
        first_time: with *resume*, the time of the log's first entry.

    Returns:
        The basis: ledger, size and root of what was verified and replayed.

    Raises:
        SequenceError: *at* is a checkpoint of another ledger.
        VerificationError: the log (or its part up to *at*) does not verify, or does not
            extend *resume*.
    """
    if at is not None and at.checkpoint.ledger != ledger:
        raise SequenceError(
            None,
            f"the checkpoint is for ledger {at.checkpoint.ledger!r}, not {ledger!r}",
            ledger=ledger,
        )
    limit = at.checkpoint.size if at is not None else None
    verifier = LedgerVerifier(ledger, trusted_keys, since=at, resume=resume)
    notes = _SizedNotes(checkpoints, limit, after=verifier.size)
    notes.feed_upto(verifier)
    first = first_time if resume is not None else None
    last_entry: Mapping[str, Any] | None = None
    batch: list[Mapping[str, Any]] = []
    stop = limit if limit is not None else sys.maxsize
    count = verifier.size  # kept beside the verifier's own count: read at every entry
    for seq, data in entries:
        if count >= stop:
            break
        # The verifier parses and checks the entry; the replay uses that same object.
        entry = verifier.add_entry(seq, data)
        count += 1
        if count >= notes.next_size:
            notes.feed_upto(verifier)
        if first is None:
            first = entry_time(entry)
        last_entry = entry  # only the last one's time is needed: parse it once, at the end
        batch.append(entry)
        if len(batch) == _BATCH:
            _feed(folds, batch)
            batch = []
    if batch:
        _feed(folds, batch)
    last: dt.datetime | None = None
    if last_entry is not None:
        last = entry_time(last_entry)
    elif resume is not None and resume.last_time is not None:
        last = parse_time(resume.last_time)
    notes.feed_rest(verifier)
    report = verifier.finish()
    point = verifier.resume_point()
    checkpoint_time = point.checkpoint.checkpoint.time if point is not None else None
    return LogBasis(ledger, report.size, report.root.hex(), first, last, checkpoint_time, point)


#: Entries verified before the folds take them.  Each fold then takes the whole batch in
#: turn, which keeps its own working set (request tracks, calendar tables) in the CPU
#: caches instead of competing with the verifier's at every entry.
_BATCH = 32


def _feed(folds: Sequence[Fold], batch: list[Mapping[str, Any]]) -> None:
    for fold in folds:
        feed = fold.feed
        for entry in batch:
            feed(entry)


class _SizedNotes:
    """Checkpoint notes handed to the verifier as the log reaches their sizes."""

    def __init__(self, notes: Iterable[str], limit: int | None, *, after: int = 0) -> None:
        self._notes = iter(notes)
        self._limit = limit
        self._after = after  # notes of at most this size cover a part verified before
        self._pending: tuple[int, str] | None = None
        self._advance()

    def _advance(self) -> None:
        self._pending = None
        for note in self._notes:
            size = SignedCheckpoint.parse(note).checkpoint.size
            if size <= self._after and self._after:
                continue  # covers only the part verified before
            if self._limit is None or size <= self._limit:
                self._pending = (size, note)
            # Beyond the chosen checkpoint: not part of this replay.
            return

    @property
    def next_size(self) -> int:
        """Return the size at which the next note is due (``sys.maxsize`` when none)."""
        return self._pending[0] if self._pending is not None else sys.maxsize

    def feed_upto(self, verifier: LedgerVerifier) -> None:
        while self._pending is not None and self._pending[0] <= verifier.size:
            verifier.add_checkpoint(self._pending[1])
            self._advance()

    def feed_rest(self, verifier: LedgerVerifier) -> None:
        while self._pending is not None:
            verifier.add_checkpoint(self._pending[1])
            self._advance()
