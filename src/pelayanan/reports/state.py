"""Saved replays: carry a report on from the checkpoint its last run covered.

A report's folds (the request flow, the SLA clock replay, the survey answers) after a
verified replay are a *state*.  `dump_state` writes it bound to what it covers: the
ledger, size, root and signed note of the checkpoint the replay ended at, the frontier
of the Merkle tree there, the library and report-algorithm versions, and a digest of the
report's configuration (`state_config`: the command, its options, the calendar
fingerprints and the SOP content hashes).  `load_state` gives it back only when all of
that still holds; `pelayanan.reports.replay.replay_verified` then verifies and folds
only the entries after it, and the report has the bytes a full replay would give.

A state file is hostile input.  Its bytes are authenticated with HMAC-SHA256 under a
secret key kept by whoever runs the reports (`state_key`); nothing in it is parsed,
let alone unpickled, before the tag checks.  Unpickling then resolves only classes of
pelayanan and a few value types of the standard library, and the calendars and SOPs
the folds refer to are the ones given to this run (by fingerprint and content hash),
never copies from the file.  The verifier checks the saved checkpoint's signature and
that the frontier is the tree it signs before taking any new entry.  What the key
cannot protect (figures forged by someone who holds it) is in docs/threat-model.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import json
import operator
import os
import pickle
import secrets
import zoneinfo
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from pelayanan import __version__
from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.merkle import CompactRange
from pelayanan.audit.verify import ResumePoint
from pelayanan.calendar import WorkCalendar
from pelayanan.exceptions import ReportStateError
from pelayanan.reports.replay import REPORT_ALGORITHM_VERSION, LogBasis
from pelayanan.sla import ClockVerdict
from pelayanan.sop import SOP

__all__ = [
    "STATE_FORMAT",
    "SavedReplay",
    "dump_state",
    "load_state",
    "pack",
    "state_config",
    "state_key",
    "unpack",
]

#: The first word of a state file; a file of another format is not read.
STATE_FORMAT = "pelayanan-report-state/3"

_KEY_BYTES = 32


def state_config(command: str, options: Mapping[str, object], **inputs: object) -> str:
    """Return the digest of a report's configuration, which a state is bound to.

    Args:
        command: the report (``sla``, ``at-risk``...).
        options: the options that shape its folds, by name (JSON values).
        **inputs: the calendar fingerprints, SOP content hashes and the like (JSON
            values).

    Returns:
        ``sha256:`` and the hex digest of their canonical JSON.
    """
    document = {"command": command, "options": dict(options), "inputs": inputs}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def state_key(path: str | Path, *, create: bool) -> bytes | None:
    """Read the secret key that authenticates state files; make one when asked.

    Args:
        path: the key file (32 random bytes, readable by its owner only).
        create: make the file when it does not exist.

    Returns:
        The key, or ``None`` when the file does not exist and *create* is false.

    Raises:
        ReportStateError: the file cannot be read or made, or does not hold a key.
    """
    target = Path(path)
    try:
        key = target.read_bytes()
    except FileNotFoundError:
        if not create:
            return None
        key = secrets.token_bytes(_KEY_BYTES)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(key)
        except OSError as exc:
            msg = f"cannot make the report state key {target}: {exc.strerror}"
            raise ReportStateError(msg) from None
        return key
    except OSError as exc:
        msg = f"cannot read the report state key {target}: {exc.strerror}"
        raise ReportStateError(msg) from None
    if len(key) != _KEY_BYTES:
        msg = f"{target} is not a report state key (it must hold {_KEY_BYTES} bytes)"
        raise ReportStateError(msg)
    return key


@attrs.frozen
class SavedReplay:
    """A state read back: the folds and where their replay ended.

    Attributes:
        folds: the folds, in the order they were saved.
        resume: where the replay ended (checkpoint, frontier, last entry).
        first_time: the time of the log's first entry.
    """

    folds: tuple[Any, ...]
    resume: ResumePoint
    first_time: dt.datetime | None


def dump_state(
    log: LogBasis,
    folds: Sequence[object],
    *,
    config: str,
    key: bytes,
) -> bytes:
    """Return the bytes of a state file for *folds* after the replay that gave *log*.

    Args:
        log: the basis `replay_verified` returned (it must end at a checkpoint).
        folds: the folds fed (before any figures were released from them).
        config: the configuration digest (`state_config`).
        key: the secret key (`state_key`).

    The calendars, SOPs and time zones the folds hold are saved by name only
    (fingerprint, content hash, zone key).

    Returns:
        The state file's bytes.

    Raises:
        ReportStateError: the log does not end at a checkpoint.
    """
    point = log.resume
    if point is None:
        msg = "the replayed log does not end at a signed checkpoint; no state can be saved"
        raise ReportStateError(msg)
    header = {
        "format": STATE_FORMAT,
        "library": __version__,
        "report": REPORT_ALGORITHM_VERSION,
        "config": config,
        "ledger": log.ledger,
        "size": log.size,
        "root": log.root,
        "checkpoint": point.checkpoint.to_text(),
        "frontier": [h.hex() for h in point.frontier.hashes],
        "prev": point.prev,
        "last_time": point.last_time,
        "first_time": None if log.first_time is None else log.first_time.isoformat(),
    }
    text = json.dumps(header, sort_keys=True).encode() + b"\n"
    out = io.BytesIO()
    _Pickler(out).dump(tuple(folds))
    # The pickle is hashed and joined where it lies: at 1,000,000 entries it is 300 MiB,
    # and each copy of it cost 0.14 s (docs/performance.md, "Incremental reports").
    payload = out.getbuffer()
    mac = hmac.new(key, text, hashlib.sha256)
    mac.update(payload)
    return b"".join((f"{STATE_FORMAT} {mac.hexdigest()}\n".encode(), text, payload))


def load_state(
    data: bytes,
    *,
    config: str,
    key: bytes,
    ledger: str,
    references: Sequence[WorkCalendar | SOP] = (),
) -> SavedReplay:
    """Check and read a state file's bytes.

    Args:
        data: the file's bytes.
        config: the configuration digest of this run (`state_config`).
        key: the secret key (`state_key`).
        ledger: the ledger this run reports on.
        references: the calendars and SOPs of this run (the folds' are resolved to them).

    Returns:
        The folds and where their replay ended.

    Raises:
        ReportStateError: why the state cannot serve this run (not a state file, its
            tag does not check, another library, report or configuration, another
            ledger, or something of this run it refers to is missing).
    """
    cut = data.find(b"\n")
    first, body = data[: max(cut, 0)], memoryview(data)[cut + 1 :]  # the body is not copied
    words = first.split(b" ")
    if len(words) != 2 or words[0] != STATE_FORMAT.encode():
        if len(words) == 2 and words[0].startswith(b"pelayanan-report-state/"):
            raise ReportStateError(f"it is in another state format ({words[0].decode()!r})")
        raise ReportStateError(f"not a report state file (it does not start {STATE_FORMAT!r})")
    expected = hmac.new(key, body, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(words[1], expected):
        raise ReportStateError("its authentication tag does not check (changed, or another key)")
    cut = data.find(b"\n", len(first) + 1)
    header = json.loads(data[len(first) + 1 : cut])
    _check_header(header, config=config, ledger=ledger)
    resolved = {_reference(obj): obj for obj in references}
    try:
        stream = io.BytesIO(data)  # shares the bytes: the pickle is read where it lies
        stream.seek(cut + 1)
        folds = _Unpickler(stream, resolved).load()
        signed = SignedCheckpoint.parse(header["checkpoint"])
        frontier = CompactRange(header["size"], [bytes.fromhex(h) for h in header["frontier"]])
    except ReportStateError:
        raise
    except Exception as exc:  # the tag checked: only a bug or a stolen key gets here
        raise ReportStateError(f"its contents cannot be read: {exc}") from None
    first_time = header["first_time"]
    return SavedReplay(
        tuple(folds),
        ResumePoint(signed, frontier, header["prev"], header["last_time"]),
        None if first_time is None else dt.datetime.fromisoformat(first_time),
    )


def pack(obj: object) -> bytes:
    """Pickle *obj* as a state holds its folds (calendars, SOPs and zones by name).

    `pelayanan.reports.settled` keeps each settled request so: bytes inside the state
    that are unpickled only when a later entry names the request again.
    """
    out = io.BytesIO()
    _Pickler(out).dump(obj)
    return out.getvalue()


def unpack(data: bytes, references: Sequence[WorkCalendar | SOP]) -> Any:
    """Read back what `pack` gave, inside a state whose tag checked.

    Args:
        data: `pack`'s bytes.
        references: the calendars and SOPs of this run (the names are resolved to them).

    Raises:
        ReportStateError: it refers to a class a state never holds, or to a calendar or
            SOP this run does not use, or cannot be read.
    """
    resolved = {_reference(obj): obj for obj in references}
    try:
        return _Unpickler(io.BytesIO(data), resolved).load()
    except ReportStateError:
        raise
    except Exception as exc:  # the tag checked: only a bug or a stolen key gets here
        raise ReportStateError(f"its contents cannot be read: {exc}") from None


def _check_header(header: Mapping[str, Any], *, config: str, ledger: str) -> None:
    if header.get("library") != __version__:
        what = f"it was saved by pelayanan {header.get('library')}, this is {__version__}"
        raise ReportStateError(what)
    if header.get("report") != REPORT_ALGORITHM_VERSION:
        what = f"it was saved with report algorithms version {header.get('report')}"
        raise ReportStateError(what)
    if header.get("config") != config:
        what = "it was saved for other report options, calendars or SOP versions"
        raise ReportStateError(what)
    if header.get("ledger") != ledger:
        raise ReportStateError(f"it is for ledger {header.get('ledger')!r}, not {ledger!r}")


def _reference(obj: object) -> tuple[str, str]:
    if isinstance(obj, WorkCalendar):
        return ("calendar", obj.fingerprint)
    if isinstance(obj, SOP):
        return ("sop", obj.content_hash)
    msg = f"only calendars and SOPs are saved by reference, not {type(obj).__name__}"
    raise TypeError(msg)


class _Ref:
    """Stands, in a pickle, for a calendar, an SOP or a time zone named by its key."""


def _by_reference(obj: Any) -> tuple[type[_Ref], tuple[str, str]]:
    if isinstance(obj, zoneinfo.ZoneInfo):
        return _Ref, ("zone", str(obj.key))
    return _Ref, _reference(obj)


#: A verdict's fields in constructor order, read as one tuple.
_VERDICT_FIELDS = operator.attrgetter(*(field.name for field in attrs.fields(ClockVerdict)))


def _verdict_call(verdict: ClockVerdict) -> tuple[type[ClockVerdict], tuple[Any, ...]]:
    return ClockVerdict, _VERDICT_FIELDS(verdict)


class _Pickler(pickle.Pickler):
    """Pickle folds, saving the calendars, SOPs and time zones they hold by name.

    The types go through the dispatch table, so no Python code runs for the millions of
    other objects a large state holds.  A finished clock's verdict is saved as its
    constructor call: at 100,000 entries its 49,000 verdicts read in 0.11 s instead of
    0.17 s through attrs' own state (docs/performance.md).
    """

    def __init__(self, out: io.BytesIO) -> None:
        super().__init__(out, protocol=pickle.HIGHEST_PROTOCOL)
        self.dispatch_table = {
            WorkCalendar: _by_reference, SOP: _by_reference, zoneinfo.ZoneInfo: _by_reference,
            ClockVerdict: _verdict_call,
        }  # fmt: skip


#: The classes outside pelayanan a state may hold (value types only).
_ALLOWED = frozenset({
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "complex"),
    ("collections", "Counter"), ("collections", "OrderedDict"), ("collections", "defaultdict"),
    ("collections", "deque"), ("copyreg", "_reconstructor"), ("builtins", "object"),
    ("datetime", "datetime"), ("datetime", "date"), ("datetime", "time"),
    ("datetime", "timedelta"), ("datetime", "timezone"),
    ("fractions", "Fraction"), ("decimal", "Decimal"),
})  # fmt: skip


#: The packages whose classes (values and folds, no functions) a state may hold.
_PACKAGES = (
    ["pelayanan", "reports"], ["pelayanan", "sla"], ["pelayanan", "sop"],
    ["pelayanan", "calendar"], ["pelayanan", "routing"],
)  # fmt: skip


class _Unpickler(pickle.Unpickler):
    """Unpickle folds: pelayanan's classes and value types only; references resolved."""

    def __init__(self, data: io.BytesIO, references: Mapping[tuple[str, str], object]) -> None:
        super().__init__(data)
        self._references = references

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == (__name__, _Ref.__name__):
            return self._resolve
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        if module.split(".")[:2] in _PACKAGES and not name.startswith("__"):
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        msg = f"it refers to {module}.{name}, which a report state never holds"
        raise ReportStateError(msg)

    def _resolve(self, kind: str, name: str) -> Any:
        if kind == "zone":
            return zoneinfo.ZoneInfo(name)
        found = self._references.get((kind, name))
        if found is None:
            raise ReportStateError(f"it refers to {kind} {name}, which this run does not use")
        return found
