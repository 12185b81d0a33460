"""The one error tree of pelayanan.

Every error the library raises on purpose derives from `PelayananError`, so a host app
can catch everything pelayanan refuses with one ``except``.  Errors are mixed with the
builtin they behave like (``ValueError``, ``LookupError``, ``PermissionError``) and carry
structured attributes so callers never parse messages::

    PelayananError
    ├── InvalidArgumentError (ValueError)       an argument is outside what a function accepts
    ├── UnknownNameError (KeyError)             no state, clock or disposition of that name
    ├── ConfigurationError (ValueError)         bad configuration given to the library (.problems)
    │   ├── InvalidIdError                      an actor or official id is unusable
    │   ├── InvalidInstantError                 an instant is naive or outside the years handled
    │   │   └── ClockWentBackwardsError         an entry would be earlier than the ledger head
    │   ├── SOPDefinitionError                  an SOP file or dict is invalid (.problems)
    │   │   ├── SOPVersionConflictError         same SOP id+version, different content
    │   │   └── ScenarioError                   an SOP simulation scenario is invalid
    │   └── CalendarError                       a calendar definition or query is invalid
    │       ├── EstimatedDateError              strict mode met an estimated holiday date
    │       └── CalendarFingerprintError        not the calendar a recorded verdict used
    ├── RequestError                            an action on a service request was refused
    │   ├── UnknownRequestError (LookupError)   no request with that id
    │   ├── UnknownSOPError (LookupError)       no SOP with that id / version
    │   ├── TransitionNotAllowedError           the action is not possible from this state
    │   ├── PermissionDeniedError (PermissionError)  role, separation of duties, delegation
    │   ├── IncompleteRequestError              required fields or documents missing
    │   ├── InvalidFieldValueError (ValueError)  a value does not fit its declared type
    │   │   └── FieldNotAllowedError            a field the SOP or the action does not allow
    │   ├── GuardNotMetError                    a guard the action requires does not hold
    │   ├── RoutingError                        no routing rule matched and no triage unit
    │   ├── DispositionError (ValueError)       a disposisi cannot be issued or closed
    │   ├── MigrationError                      a migration does not apply to the request
    │   ├── ConcurrentModificationError         another writer changed the request first
    │   ├── DuplicateRequestError               a request with that id already exists
    │   └── IdempotencyKeyReuseError            a key reused for a different operation
    ├── AuditError                              the audit ledger
    │   ├── CanonicalEncodingError (ValueError) a value cannot be canonical JSON
    │   ├── KeyMaterialError                    a key cannot be loaded, generated or used
    │   ├── ProofError                          a proof or receipt is malformed or does not check
    │   └── VerificationError                   the log does not verify (.seq, .reason)
    │       ├── MalformedEntryError             an entry is not well-formed canonical JSON
    │       ├── SequenceError                   numbering gap, duplicate, or wrong ledger
    │       ├── ChainError                      predecessor hash mismatch
    │       ├── MerkleRootError                 a checkpoint's root does not match the entries
    │       ├── SignatureError                  a checkpoint signature is missing, bad or untrusted
    │       └── TimeOrderError                  an entry is earlier than the one before it
    ├── WitnessError                            a witness refused to countersign a checkpoint
    │   ├── UnknownLedgerError (LookupError)    the witness holds no trusted key for the ledger
    │   ├── WitnessSignatureError               not validly signed by the ledger's trusted key
    │   ├── RollbackError                       smaller than the checkpoint remembered
    │   ├── ForkError                           another root at a size, or no consistency (.notes)
    │   └── BackdatedCheckpointError            dated before the checkpoint remembered
    ├── StoreError                              the storage backend
    │   ├── SchemaVersionError                  the store was written by another schema version
    │   │   └── StoreMigrationRequiredError     read-only: the store needs a migration first
    │   ├── StoreNotEmptyError                  import refused: the target already has data
    │   ├── StoreMissingError (FileNotFoundError)  read-only: no store at that location
    │   ├── LedgerPlacementError                the ledger map places the ledger elsewhere
    │   └── StoreIntegrityError                 a table disagrees with the log (.table, .key)
    ├── PrivacyError                            the personal-data vault
    │   ├── SubjectErasedError (LookupError)    the subject's key was destroyed
    │   ├── UnknownSubjectError (LookupError)   no data subject with that id
    │   ├── ErasureRefusedError                 legal hold or unexpired retention (.rule)
    │   └── VaultKeyMismatchError               not the master key the store was sealed under
    └── ReportError (ValueError)                a report's input is invalid
        ├── QualityConfigError                  a quality index configuration is invalid
        ├── IKMRulesError                       an IKM rules file is invalid
        ├── DirectoryError                      an officer directory file is invalid
        │                                       (these three are ConfigurationErrors, .problems)
        └── ReportStateError                    a saved report state cannot serve this run

`PelayananWarning` (a ``UserWarning``) is the root of the warnings the library emits,
for example when a deadline crosses a holiday date that is only an estimate
(`EstimatedDateWarning`), or when a private key file can be read by others
(`KeyFilePermissionWarning`).

Messages never quote a request's field values: a refusal is recorded in the audit log
forever, and a value may be personal data.  They name the field and what is wrong.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs

__all__ = [
    "AuditError",
    "BackdatedCheckpointError",
    "CalendarError",
    "CalendarFingerprintError",
    "CanonicalEncodingError",
    "ChainError",
    "ClockWentBackwardsError",
    "ConcurrentModificationError",
    "ConfigurationError",
    "DirectoryError",
    "DispositionError",
    "DuplicateRequestError",
    "ErasureRefusedError",
    "ForkError",
    "EstimatedDateError",
    "EstimatedDateWarning",
    "IKMRulesError",
    "IdempotencyKeyReuseError",
    "IncompleteRequestError",
    "InvalidArgumentError",
    "InvalidFieldValueError",
    "InvalidIdError",
    "InvalidInstantError",
    "KeyFilePermissionWarning",
    "KeyMaterialError",
    "MalformedEntryError",
    "MerkleRootError",
    "MigrationError",
    "PelayananError",
    "PelayananWarning",
    "PermissionDeniedError",
    "PrivacyError",
    "Problem",
    "ProofError",
    "QualityConfigError",
    "ReportError",
    "ReportStateError",
    "RollbackError",
    "RequestError",
    "RoutingError",
    "SOPDefinitionError",
    "SOPVersionConflictError",
    "ScenarioError",
    "SchemaVersionError",
    "SequenceError",
    "SignatureError",
    "TimeOrderError",
    "StoreError",
    "StoreIntegrityError",
    "LedgerPlacementError",
    "StoreMigrationRequiredError",
    "StoreMissingError",
    "StoreNotEmptyError",
    "SubjectErasedError",
    "TransitionNotAllowedError",
    "UnknownLedgerError",
    "UnknownNameError",
    "UnknownRequestError",
    "UnknownSOPError",
    "UnknownSubjectError",
    "VaultKeyMismatchError",
    "VerificationError",
    "WitnessError",
    "WitnessSignatureError",
]


class PelayananError(Exception):
    """Root of every error pelayanan raises on purpose."""


class PelayananWarning(UserWarning):
    """Root of every warning pelayanan emits."""


class EstimatedDateWarning(PelayananWarning):
    """A computation relied on a holiday date that the data source marks as an estimate."""


class KeyFilePermissionWarning(PelayananWarning):
    """A private key file can be read by users other than its owner; ``chmod 600`` it."""


class InvalidArgumentError(PelayananError, ValueError):
    """An argument is outside what the function accepts (a naive datetime, a bad count)."""


class UnknownNameError(PelayananError, KeyError):
    """Nothing of that name exists (an SOP's state or clock, a request's disposition).

    Attributes:
        kind: what was looked up (``state``, ``clock``, ``disposition``).
        name: the name that was not found.
    """

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name
        # Both as arguments, so that the error survives pickling.
        super().__init__(kind, name)

    def __str__(self) -> str:
        # KeyError would show the repr of the message; say it plainly.
        return f"no {self.kind} named {self.name!r}"


# --- configuration ---------------------------------------------------------------------


@attrs.frozen
class Problem:
    """One problem found in a configuration document.

    Attributes:
        path: the key path inside the document, e.g. ``actions[2].roles``.
        message: what is wrong and how to fix it.
        file: the file the document came from, or ``None`` for a dict.
        line: the 1-based line of the offending key, when known.
    """

    path: str
    message: str
    file: str | None = None
    line: int | None = None

    def render(self) -> str:
        """Render as one line: ``FILE:LINE: KEY.PATH: message``, or ``KEY.PATH: message``.

        The first form (the `sop check` line format, line 0 when unknown, ``$`` for the
        whole document) is used when the problem belongs to a file.
        """
        if self.file is None:
            return f"{self.path}: {self.message}" if self.path else self.message
        line = self.line if self.line is not None else 0
        return f"{self.file}:{line}: {self.path or '$'}: {self.message}"


class ConfigurationError(PelayananError, ValueError):
    """Configuration handed to the library is invalid; ``problems`` lists every problem.

    Args:
        problems: the problems found, or one message (a problem without a key path).

    Attributes:
        problems: every problem found; the message renders one per line.
    """

    def __init__(self, problems: str | Sequence[Problem] = ()) -> None:
        if isinstance(problems, str):
            self.problems: tuple[Problem, ...] = (Problem("", problems),)
            message = problems
        else:
            self.problems = tuple(problems)
            message = "\n".join(p.render() for p in self.problems) or "invalid configuration"
        super().__init__(message)


class InvalidIdError(ConfigurationError):
    """An actor or official id cannot be used; ``problem`` says why (never quoting it).

    Attributes:
        what: what the id names (``actor id``, ``delegation.delegate``).
        problem: what is wrong (empty, too long, a control character).
    """

    def __init__(self, what: str, problem: str) -> None:
        self.what = what
        self.problem = problem
        super().__init__(f"{what}: {problem}")


class InvalidInstantError(ConfigurationError):
    """An instant is naive (no UTC offset) or outside the years pelayanan handles."""


class ClockWentBackwardsError(InvalidInstantError):
    """An entry would be earlier than the ledger's last entry; fix the host clock.

    Within a ledger entry times never decrease.  A desk created with
    ``clock_skew="hold"`` records such an entry at the head's time instead, with the host
    time alongside.

    Attributes:
        head: the time of the ledger's last entry.
        time: the earlier time the entry would have had.
    """

    def __init__(self, head: dt.datetime, time: dt.datetime) -> None:
        self.head = head
        self.time = time
        super().__init__(
            f"the clock went backwards: {time.isoformat()} is before the ledger's last entry "
            f"at {head.isoformat()}; fix the host clock, or create the desk with "
            'clock_skew="hold"'
        )


class SOPDefinitionError(ConfigurationError):
    """An SOP definition is invalid; ``problems`` lists every problem found."""


class SOPVersionConflictError(SOPDefinitionError):
    """Different content was loaded under an SOP id and version that already exist."""


class ScenarioError(SOPDefinitionError):
    """A simulation scenario (``pelayanan sop simulate``) is invalid; see ``problems``."""


class CalendarError(ConfigurationError):
    """A calendar definition or a calendar query is invalid."""


class EstimatedDateError(CalendarError):
    """Strict mode refused a computation that crosses an estimated holiday date."""


class CalendarFingerprintError(CalendarError):
    """A calendar is missing, or is not the one the log recorded (by fingerprint).

    Attributes:
        calendar: the calendar's name in the log.
        recorded: the fingerprint the log recorded.
        found: the fingerprint of the calendar given, or ``None`` when none was given.
    """

    def __init__(self, calendar: str, recorded: str, found: str | None, *, where: str = "") -> None:
        self.calendar = calendar
        self.recorded = recorded
        self.found = found
        prefix = f"{where}: " if where else ""
        if found is None:
            problem = f"no calendar named {calendar!r} was given"
        else:
            problem = f"calendar {calendar!r} given has fingerprint {found}"
        super().__init__(
            f"{prefix}{problem}, but the log recorded {recorded}: pass the calendar "
            "definition and holidays data version that fingerprint identifies"
        )


# --- requests --------------------------------------------------------------------------


class RequestError(PelayananError):
    """An operation on a service request was refused."""


class UnknownRequestError(RequestError, LookupError):
    """No service request has the given id."""

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        super().__init__(f"no service request with id {request_id!r}")


class UnknownSOPError(RequestError, LookupError):
    """No SOP with the given id (and version) is registered."""


class TransitionNotAllowedError(RequestError):
    """The action cannot be taken from the request's current state."""

    def __init__(self, action: str, state: str, allowed: Sequence[str] = ()) -> None:
        self.action = action
        self.state = state
        self.allowed = tuple(allowed)
        hint = f"; allowed here: {', '.join(self.allowed)}" if self.allowed else ""
        super().__init__(f"action {action!r} is not allowed in state {state!r}{hint}")


class PermissionDeniedError(RequestError, PermissionError):
    """The actor may not take the action; ``rule`` names the rule that refused it."""

    def __init__(self, message: str, *, rule: str) -> None:
        self.rule = rule
        super().__init__(message)


class IncompleteRequestError(RequestError):
    """Required fields, documents or arguments are missing; ``missing`` lists them.

    The message says where each belongs: the SOP's required fields go in ``data``; the
    names in ``arguments`` are keyword arguments of the call, shown as ``name=...``
    (``justification=...``, ``reason=...``, ``purpose=...``).

    Args:
        action: the action (or operation) refused.
        missing: the data fields missing, required by the SOP.
        arguments: the keyword arguments missing or blank; a text that already holds
            ``=`` is shown as it is (``"exactly one of subject=, request="``).
    """

    def __init__(
        self, action: str, missing: Sequence[str] = (), *, arguments: Sequence[str] = ()
    ) -> None:
        self.action = action
        self.arguments = tuple(arguments)
        self.missing = (*missing, *self.arguments)
        needs = []
        if missing:
            needs.append(f"{', '.join(missing)} in data")
        if arguments:
            needs.append(", ".join(_as_argument(name) for name in self.arguments))
        super().__init__(f"action {action!r} needs {' and '.join(needs)}")


def _as_argument(text: str) -> str:
    """Return ``name (detail)`` as ``name=... (detail)``; text holding ``=`` unchanged."""
    if "=" in text:
        return text
    name, space, detail = text.partition(" ")
    return f"{name}=...{space}{detail}"


class InvalidFieldValueError(RequestError, ValueError):
    """Values do not fit the types the SOP declares; ``problems`` lists them."""

    def __init__(self, action: str, problems: Sequence[str]) -> None:
        self.action = action
        self.problems = tuple(problems)
        super().__init__(f"action {action!r}: " + "; ".join(self.problems))


class FieldNotAllowedError(InvalidFieldValueError):
    """Data names fields the action may not write; ``fields`` lists their names.

    ``rule`` is ``fields:undeclared`` (the SOP's ``fields`` do not declare them) or
    ``fields:writes`` (the action's ``writes`` does not list them).  Values are never
    quoted.
    """

    def __init__(self, action: str, fields: Sequence[str], *, rule: str, hint: str) -> None:
        self.fields = tuple(fields)
        self.rule = rule
        super().__init__(action, [f"may not write {', '.join(self.fields)}: {hint}"])


class GuardNotMetError(RequestError):
    """A guard the action lists under ``requires`` does not hold; ``rule`` is ``guard:<name>``."""

    def __init__(self, action: str, guard: str, detail: str) -> None:
        self.action = action
        self.guard = guard
        self.rule = f"guard:{guard}"
        super().__init__(f"action {action!r} requires {guard}: {detail}")


class RoutingError(RequestError):
    """No routing rule matched the request and no triage unit is declared."""


class DispositionError(RequestError, ValueError):
    """A disposisi cannot be issued or closed (no target, no due date, already closed)."""


class MigrationError(RequestError):
    """A migration does not apply to the request (another SOP or version, unmapped state)."""


class ConcurrentModificationError(RequestError):
    """Another writer changed the request first; reload it and retry."""

    def __init__(self, request_id: str, expected: int, actual: int | None) -> None:
        self.request_id = request_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"request {request_id!r} was changed concurrently "
            f"(expected version {expected}, found {actual}); reload and retry"
        )


# --- audit -----------------------------------------------------------------------------


class AuditError(PelayananError):
    """An error of the audit ledger."""


class CanonicalEncodingError(AuditError, ValueError):
    """A value cannot be encoded as canonical JSON (floats, huge ints, bad strings)."""


class KeyMaterialError(AuditError):
    """A signing key cannot be generated, loaded or used.  Never carries key bytes."""


class ProofError(AuditError):
    """A proof or receipt is malformed or does not check."""


class VerificationError(AuditError):
    """The log does not verify.

    Attributes:
        seq: the sequence number of the first entry found at fault (``None`` when the
            fault is not tied to one entry).
        reason: what is wrong, in words an auditor can act on.
        ledger: the ledger being verified, when known.
    """

    def __init__(self, seq: int | None, reason: str, *, ledger: str | None = None) -> None:
        self.seq = seq
        self.reason = reason
        self.ledger = ledger
        prefix = f"entry {seq}: " if seq is not None else ""
        super().__init__(f"{prefix}{reason}")


class MalformedEntryError(VerificationError):
    """An entry is not well-formed canonical JSON of the documented shape."""


class TimeOrderError(VerificationError):
    """An entry's time is earlier than the time of the entry before it."""


class SequenceError(VerificationError):
    """Entries are missing, duplicated, out of order, or belong to another ledger."""


class ChainError(VerificationError):
    """An entry's predecessor hash does not match the previous entry."""


class MerkleRootError(VerificationError):
    """A checkpoint's Merkle root does not match the entries it covers."""


class SignatureError(VerificationError):
    """A checkpoint signature is missing, invalid, or by a key not trusted at that time."""


# --- witnesses -------------------------------------------------------------------------


class WitnessError(PelayananError):
    """A witness refused to countersign a checkpoint (the message says why)."""


class UnknownLedgerError(WitnessError, LookupError):
    """The witness was not initialised with a trusted key for the checkpoint's ledger."""


class WitnessSignatureError(WitnessError):
    """The checkpoint is not validly signed by the ledger key the witness trusts."""


class RollbackError(WitnessError):
    """The checkpoint is smaller than the one the witness remembers for its ledger."""


class ForkError(WitnessError):
    """Two signed checkpoints of one ledger that no single history explains.

    Attributes:
        notes: the two signed checkpoint notes (the remembered one first): evidence.
    """

    def __init__(self, message: str, notes: tuple[str, str]) -> None:
        self.notes = notes
        super().__init__(message)


class BackdatedCheckpointError(WitnessError):
    """The checkpoint is dated before the one the witness remembers for its ledger."""


# --- storage ---------------------------------------------------------------------------


class StoreError(PelayananError):
    """An error of the storage backend."""


class SchemaVersionError(StoreError):
    """The store was written by a schema version this library cannot read."""


class StoreNotEmptyError(StoreError):
    """An import was refused because the target store already holds entries."""


class StoreMigrationRequiredError(SchemaVersionError):
    """A store opened read-only was written by an older schema and needs a migration."""


class StoreMissingError(StoreError, FileNotFoundError):
    """A store opened read-only does not exist (nothing is created)."""


class LedgerPlacementError(StoreError):
    """A ledger is not placed here: the ledger map names no store for it, or it moved."""


class StoreIntegrityError(StoreError):
    """A stored row disagrees with the audit log, so the store refuses to build on it.

    Attributes:
        table: the table holding the row (``requests``, ``ledgers``, ...).
        key: the row's key (a request id, a ledger id).
        what: what differs, in words.
    """

    def __init__(self, table: str, key: str, what: str) -> None:
        self.table = table
        self.key = key
        self.what = what
        super().__init__(
            f"store: {table} {key}: {what}; the row no longer matches the audit log: run "
            "`pelayanan audit verify --db` and restore the store from a verified copy"
        )


# --- privacy ---------------------------------------------------------------------------


class DuplicateRequestError(RequestError):
    """A submission names a request id that already exists; choose another id.

    Attributes:
        request_id: the id given.
    """

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        super().__init__(
            f"a service request with id {request_id!r} already exists; submit under a new id "
            "(or retry with the first submission's idempotency key)"
        )


class IdempotencyKeyReuseError(RequestError):
    """An idempotency key was reused for a different operation; use a fresh key.

    A key stands for one operation: the same call (ledger, operation, request, action,
    actor and data) replays its first result; anything else under the key is refused.

    Attributes:
        differs: what differs from the key's first use (e.g. ``"request"``, ``"data"``).
    """

    def __init__(self, differs: str) -> None:
        self.differs = differs
        super().__init__(
            f"this idempotency key was first used for another operation (its {differs} "
            "differs); use a new key for a new operation"
        )


class PrivacyError(PelayananError):
    """An error of the personal-data vault."""


class SubjectErasedError(PrivacyError, LookupError):
    """The data subject's key was destroyed: their data can no longer be revealed."""


class UnknownSubjectError(PrivacyError, LookupError):
    """No data subject has the given id."""

    def __init__(self, subject: str) -> None:
        self.subject = subject
        super().__init__(f"no data subject with id {subject!r}")


class VaultKeyMismatchError(PrivacyError):
    """The vault master key is not the one the store's personal data was sealed under.

    Attributes:
        expected: the fingerprint the store recorded at first use.
        found: the fingerprint of the key given.
    """

    def __init__(self, expected: str, found: str) -> None:
        self.expected = expected
        self.found = found
        super().__init__(
            f"the vault master key given (fingerprint {found}) is not the one this store's "
            f"personal data is sealed under (fingerprint {expected}): load the store's own "
            "master key"
        )


class ErasureRefusedError(PrivacyError):
    """Erasure was refused because a legal hold or unexpired retention applies.

    Attributes:
        rule: what refused it: ``legal_hold``, ``retention`` (unexpired, or the request
            is still open), or ``retention_unconfigured`` (the SOP names a retention
            class the host app gave no period for).
        holds: the ids of the legal holds in force (for ``legal_hold``).
        until: when the retention ends, if known.
    """

    def __init__(
        self,
        message: str,
        *,
        rule: str,
        holds: Sequence[str] = (),
        until: dt.datetime | None = None,
    ) -> None:
        self.rule = rule
        self.holds = tuple(holds)
        self.until = until
        super().__init__(message)


# --- reports ---------------------------------------------------------------------------


class ReportError(PelayananError, ValueError):
    """The input of a report is invalid."""


class QualityConfigError(ConfigurationError, ReportError):
    """A quality index configuration is invalid; ``problems`` lists every problem.

    It is a `ConfigurationError` like every configuration problem, and a `ReportError`
    because the quality report is what reads it.
    """


class IKMRulesError(ConfigurationError, ReportError):
    """An IKM rules file (custom unsur, weights, bands) is invalid; ``problems`` lists all.

    It is a `ConfigurationError` like every configuration problem, and a `ReportError`
    because the IKM report is what reads it.
    """


class DirectoryError(ConfigurationError, ReportError):
    """An officer directory file (NIP to name and unit) is invalid; ``problems`` lists all.

    It is a `ConfigurationError` like every configuration problem, and a `ReportError`
    because only reports read it.
    """


class ReportStateError(ReportError):
    """A saved report state cannot serve this run; the message says why.

    The report is then rebuilt from the whole log: a state is an optimisation, never a
    source of figures on its own.
    """
