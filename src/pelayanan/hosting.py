"""What a host application (a web app, a worker) needs around the desk.

Three small helpers, each general to any host:

- `http_status`: the HTTP status code that fits a typed error of the `PelayananError`
  tree, so every refusal the desk raises maps to one answer (404, 403, 409, 422, ...).
- `HostSettings.from_env`: the store location, ledger and keys a production deployment
  passes through the environment, with key material read from files (or, for the vault
  master key, from a hex value), every problem reported at once.
- `prove_entry`: a citizen's receipt for one entry (what ``pelayanan audit prove``
  writes), built from the store.
- `log_reports`: one verified replay of a ledger giving the SLA report, the at-risk list
  and the Open311 feed together, the way ``pelayanan report`` computes them.

A host builds one `ServiceDesk` per worker process from the settings; the store
serialises their appends, and ``desk.tick`` fires each SLA event once however many
workers call it at the same time.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import attrs

from pelayanan.audit.keyring import KeyringSigner, TrustedKey
from pelayanan.audit.keys import PRIVATE_KEY_FILE, SigningKey, VerifierKey, load_private_key
from pelayanan.calendar import WorkCalendar, indonesian_government_calendar
from pelayanan.exceptions import (
    AuditError,
    ConcurrentModificationError,
    ConfigurationError,
    ErasureRefusedError,
    GuardNotMetError,
    IncompleteRequestError,
    InvalidFieldValueError,
    PelayananError,
    PermissionDeniedError,
    ProofError,
    ReportError,
    RequestError,
    StoreError,
    SubjectErasedError,
    TransitionNotAllowedError,
    UnknownRequestError,
    UnknownSOPError,
    UnknownSubjectError,
    VerificationError,
)
from pelayanan.privacy.vault import MASTER_KEY_FILE, load_master_key
from pelayanan.reports.at_risk import AtRiskReport, build_at_risk
from pelayanan.reports.clocks import ClockLogFold, clock_outcomes
from pelayanan.reports.flow import RequestFlow
from pelayanan.reports.open311 import open311_requests
from pelayanan.reports.replay import LogBasis, ReportBasis, replay_verified
from pelayanan.reports.sla_report import SLAReport, build_sla_report
from pelayanan.sop import SOP, SOPRegistry
from pelayanan.store._witness import prove_entry
from pelayanan.store.base import Store

__all__ = ["HostSettings", "LogReports", "http_status", "log_reports", "prove_entry"]

# Most specific first: the first class the error is an instance of decides.
_STATUS: tuple[tuple[type[PelayananError], int], ...] = (
    (UnknownRequestError, 404),
    (UnknownSOPError, 404),
    (UnknownSubjectError, 404),
    (SubjectErasedError, 410),
    (PermissionDeniedError, 403),
    (TransitionNotAllowedError, 409),
    (GuardNotMetError, 409),
    (ConcurrentModificationError, 409),
    (ErasureRefusedError, 409),
    (IncompleteRequestError, 422),
    (InvalidFieldValueError, 422),
    (ProofError, 422),
    (ReportError, 422),
    (RequestError, 422),
    (VerificationError, 500),
    (AuditError, 500),
    (StoreError, 503),
)


def http_status(error: PelayananError) -> int:
    """Return the HTTP status code a host answers *error* with.

    Refusals of the caller's request are 4xx (unknown request 404, permission 403, wrong
    state or a lost race 409, missing or invalid fields 422, an erased subject 410); a
    log that does not verify or a broken configuration is the server's fault (500); an
    unreachable store is 503.

    Args:
        error: an error of the `PelayananError` tree.

    Returns:
        The status code.
    """
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 500


def _problem(name: str, message: str) -> str:
    return f"{name}: {message}"


def _read_env_file(env: Mapping[str, str], name: str, problems: list[str]) -> Path | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    path = Path(value)
    if not path.is_file():
        problems.append(_problem(name, f"{value} is not a file; give the key's path"))
        return None
    return path


def _master_key(env: Mapping[str, str], prefix: str, problems: list[str]) -> bytes | None:
    hex_name, file_name = f"{prefix}MASTER_KEY", f"{prefix}MASTER_KEY_FILE"
    text = env.get(hex_name, "").strip()
    if text:
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) != 32:
            problems.append(_problem(hex_name, "give 64 hexadecimal digits (32 bytes)"))
            return None
        return key
    path = _read_env_file(env, file_name, problems)
    folder = env.get(f"{prefix}KEYS_DIR", "").strip()
    if path is None and folder and (Path(folder) / MASTER_KEY_FILE).is_file():
        path = Path(folder) / MASTER_KEY_FILE
    if path is None:
        return None
    try:
        return load_master_key(path)
    except PelayananError as exc:
        problems.append(_problem(file_name, str(exc)))
        return None


def _signer(
    env: Mapping[str, str], prefix: str, problems: list[str]
) -> SigningKey | KeyringSigner | None:
    file_name, folder_name = f"{prefix}LEDGER_KEY_FILE", f"{prefix}KEYS_DIR"
    path = _read_env_file(env, file_name, problems)
    folder = env.get(folder_name, "").strip()
    try:
        if path is not None:
            return load_private_key(path)
        if folder:
            return KeyringSigner.from_folder(folder)
    except PelayananError as exc:
        problems.append(_problem(file_name if path else folder_name, str(exc)))
        return None
    problems.append(
        _problem(
            file_name,
            f"no ledger key: set {file_name} to a private key PEM, or {folder_name} to a "
            f"key folder holding {PRIVATE_KEY_FILE} (pelayanan keys generate --out DIR)",
        )
    )
    return None


@attrs.frozen
class HostSettings:
    """Where a host's desk keeps its data and the keys it signs and seals with.

    Attributes:
        store: the store location (`pelayanan.open_store`): a SQLite path or a
            ``postgresql://`` URL.
        ledger: the ledger the desk appends to.
        signing_key: the ledger key, or a `KeyringSigner` from a key folder.
        master_key: the personal-data vault master key (32 bytes), if configured.

    .. versionadded:: 0.1.0
    """

    store: str
    ledger: str
    signing_key: SigningKey | KeyringSigner = attrs.field(repr=False)
    master_key: bytes | None = attrs.field(default=None, repr=False)

    @property
    def trusted_keys(self) -> list[VerifierKey | TrustedKey]:
        """Return the public keys that verify this host's checkpoints."""
        if isinstance(self.signing_key, KeyringSigner):
            return list(self.signing_key.keyring.keys)
        return [self.signing_key.verifier]

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        prefix: str = "PELAYANAN_",
        default_store: str | None = None,
    ) -> HostSettings:
        """Read the settings from environment variables (names start with *prefix*).

        ``STORE`` is the store location (else *default_store*); ``LEDGER`` the ledger
        (default ``default``); ``LEDGER_KEY_FILE`` a private key PEM, or ``KEYS_DIR`` a
        key folder (``ledger-private.pem`` with its keyring, and the vault master key
        file when present); ``MASTER_KEY_FILE`` the vault master key file, or
        ``MASTER_KEY`` the key as 64 hexadecimal digits (a secret manager's variable).

        Args:
            env: the variables (default: ``os.environ``).
            prefix: the prefix of every variable name.
            default_store: the store location when ``STORE`` is unset.

        Returns:
            The settings.

        Raises:
            ConfigurationError: a variable is missing or names unusable key material;
                the message has one line per problem, starting with the variable name.
        """
        values = os.environ if env is None else env
        problems: list[str] = []
        store = values.get(f"{prefix}STORE", "").strip() or default_store
        if not store:
            problems.append(_problem(f"{prefix}STORE", "give a SQLite path or a postgresql:// URL"))
        signer = _signer(values, prefix, problems)
        master = _master_key(values, prefix, problems)
        if problems or store is None or signer is None:
            raise ConfigurationError("\n".join(problems))
        ledger = values.get(f"{prefix}LEDGER", "").strip() or "default"
        return cls(store, ledger, signer, master)


@attrs.frozen
class LogReports:
    """The reports of one verified replay of a ledger.

    Attributes:
        basis: the verified log the reports were computed from (ledger, size, root).
        sla: SLA compliance, backlog and breach attribution.
        at_risk: the open requests likely to breach, with the reason.
        open311: the requests as Open311 GeoReport v2 dicts (no personal data).

    .. versionadded:: 0.1.0
    """

    basis: LogBasis
    sla: SLAReport
    at_risk: AtRiskReport
    open311: list[dict[str, str | None]]


def log_reports(
    store: Store,
    *,
    ledger: str,
    sops: SOPRegistry | Iterable[SOP],
    trusted_keys: Sequence[VerifierKey | TrustedKey],
    calendar: WorkCalendar | None = None,
    at: dt.datetime | None = None,
    min_samples: int = 3,
) -> LogReports:
    """Verify *ledger* in *store* and compute the SLA, at-risk and Open311 reports at once.

    Args:
        store: the store holding the ledger.
        ledger: the ledger to report on.
        sops: the SOPs the requests ran under.
        trusted_keys: the public keys whose checkpoint signatures are accepted.
        calendar: the working calendar (default: the Indonesian government calendar).
        at: the instant the reports judge (default: the newest checkpoint's time).
        min_samples: past requests needed to judge a state at risk.

    Returns:
        The reports, released only after the whole log verified.

    Raises:
        VerificationError: the log does not verify.
        CalendarError: the SLA clocks cannot be recomputed on *calendar*.
        ReportError: the log is empty and no *at* is given.
    """
    work = calendar if calendar is not None else indonesian_government_calendar()
    flow = RequestFlow(sops, work, history=True, until=at)
    clocks_fold = ClockLogFold(default=work, until=at)
    log = replay_verified(
        ledger,
        ((e.seq, e.data) for e in store.entries(ledger)),
        store.iter_checkpoints(ledger),
        trusted_keys,
        [flow, clocks_fold],
    )
    instant = at if at is not None else log.instant
    clocks = clock_outcomes(clocks_fold, as_of=instant)
    rules = {
        f"sop:{sop_id}": f"{version} ({digest[:12]})"
        for sop_id, version, digest in sorted(flow.sop_versions)
    }
    basis = ReportBasis.for_log(log, work, rules=rules, at=instant)
    sla = build_sla_report(
        flow, basis, verdicts=clocks.verdicts, breaches=clocks.breaches,
        verdict_source=clocks.source, as_of=instant,
    )  # fmt: skip
    at_risk = build_at_risk(
        flow, basis, verdicts=clocks.verdicts, at=instant, min_samples=min_samples,
        verdict_source=clocks.source,
    )  # fmt: skip
    return LogReports(log, sla, at_risk, open311_requests(flow, verdicts=clocks.verdicts))
