"""The key vault's storage: wrapped per-subject keys, the NIK index, links and legal holds.

The vault keeps, per data subject, one data key *wrapped* (encrypted) under a key derived
from the host's master key (see `pelayanan.privacy`).  The store never sees a key in
clear.  Every vault change is committed in the same transaction as the audit entry that
records it (`VaultStore.append_with_vault`), so the log and the vault never disagree.

Erasing a subject deletes its wrapped key and its index rows.  SQLite runs with
``PRAGMA secure_delete=ON`` so deleted cells are overwritten with zeros, and truncates
the write-ahead log after an erasure so no older page image keeps the key.  The SQL
stores' vault statements live with their other statements in `pelayanan.store._sql`;
the in-memory vault is here.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, Unpack, runtime_checkable

import attrs

# One UTC normalisation for every stored timestamp, the request rows' and the vault's.
from pelayanan.store.base import _utc, _utc_or_none

if TYPE_CHECKING:
    from pelayanan.store.base import AppendOptions, AppendResult

__all__ = [
    "LegalHold",
    "MemoryVaultMixin",
    "ScrubbableVault",
    "SubjectRecord",
    "VAULT_FINGERPRINT_KEY",
    "VaultChange",
    "VaultFingerprintStore",
    "VaultStore",
    "WrappedKey",
]

#: The ``meta`` key under which a store keeps the fingerprint of its vault master key.
VAULT_FINGERPRINT_KEY = "vault_master_fingerprint"


@attrs.frozen
class WrappedKey:
    """A data subject's key, encrypted under the vault's wrapping key.

    Attributes:
        subject: the pseudonymous data-subject id.
        kid: the key id (named by every ciphertext made with it).
        nonce: the nonce of the wrapping.
        wrapped: the wrapped key (ciphertext and tag).
        created_at: when the key was made.
    """

    subject: str
    kid: str
    nonce: bytes = attrs.field(repr=False)
    wrapped: bytes = attrs.field(repr=False)
    created_at: dt.datetime = attrs.field(converter=_utc)


@attrs.frozen
class SubjectRecord:
    """What the vault knows of a data subject: its key id and whether it was erased."""

    subject: str
    kid: str
    created_at: dt.datetime = attrs.field(converter=_utc)
    erased_at: dt.datetime | None = attrs.field(default=None, converter=_utc_or_none)

    @property
    def erased(self) -> bool:
        """Return whether the subject's key was destroyed."""
        return self.erased_at is not None


@attrs.frozen
class LegalHold:
    """A legal hold on a data subject or on one request: erasure is refused while it holds.

    Attributes:
        id: the hold id.
        subject: the held data subject, or ``None``.
        request: the held request, or ``None``.
        reason: why (e.g. the case or court order reference).
        placed_by: the actor id who placed it.
        placed_at: when.
    """

    id: str
    subject: str | None
    request: str | None
    reason: str
    placed_by: str
    placed_at: dt.datetime = attrs.field(converter=_utc)


@attrs.frozen
class VaultChange:
    """Vault writes committed together with one audit entry.

    Attributes:
        keys: new subject keys.
        index: ``(tag, subject)`` rows of the keyed NIK index (first writer wins).
        links: ``(subject, request)`` rows: which requests hold a subject's data.
        erase: subjects whose keys and index rows are destroyed.
        holds: legal holds placed.
        release: ids of legal holds released.
        at: the instant of the change (the erasure time).
    """

    at: dt.datetime = attrs.field(converter=_utc)
    keys: tuple[WrappedKey, ...] = ()
    index: tuple[tuple[str, str], ...] = ()
    links: tuple[tuple[str, str], ...] = ()
    erase: tuple[str, ...] = ()
    holds: tuple[LegalHold, ...] = ()
    release: tuple[str, ...] = ()


@runtime_checkable
class ScrubbableVault(Protocol):
    """A vault whose erased pages may outlive the erasure until a checkpoint (SQLite)."""

    def vault_scrub(self, *, wait: float) -> str | None:
        """Overwrite erased pages, waiting at most *wait* s; return what blocks it."""


@runtime_checkable
class VaultStore(Protocol):
    """What the privacy layer needs from a store, beside the `Store` protocol."""

    def append_with_vault(
        self,
        ledger: str,
        body: Mapping[str, Any],
        *,
        change: VaultChange,
        **options: Unpack[AppendOptions],
    ) -> AppendResult:
        """Append an audit entry, write *request* and apply *change* in one transaction."""

    def vault_key(self, subject: str) -> WrappedKey | None:
        """Return the wrapped key of *subject* (``None`` if unknown or erased)."""

    def vault_subject(self, subject: str) -> SubjectRecord | None:
        """Return what the vault knows of *subject*, or ``None`` if it never existed."""

    def vault_subjects(self) -> list[str]:
        """Return every data-subject id (erased ones included), sorted."""

    def vault_find(self, tag: str) -> str | None:
        """Return the subject indexed under keyed *tag*, or ``None``."""

    def vault_requests(self, subject: str) -> list[str]:
        """Return the ids of the requests that hold *subject*'s data, sorted."""

    def vault_holds(
        self, *, subject: str | None = None, requests: tuple[str, ...] = ()
    ) -> list[LegalHold]:
        """Return the active holds on *subject* or on any of *requests*."""

    def vault_hold(self, hold_id: str) -> LegalHold | None:
        """Return the active hold *hold_id*, or ``None``."""


@runtime_checkable
class VaultFingerprintStore(Protocol):
    """A store that remembers which vault master key its personal data is sealed under."""

    def vault_fingerprint(self, candidate: str | None) -> str | None:
        """Record *candidate* unless a fingerprint is recorded; return the recorded one.

        With ``None``, only read: return the recorded fingerprint or ``None``.
        """


# --- memory --------------------------------------------------------------------------------


@attrs.define
class _MemoryVault:
    keys: dict[str, WrappedKey] = attrs.Factory(dict)
    subjects: dict[str, SubjectRecord] = attrs.Factory(dict)
    index: dict[str, str] = attrs.Factory(dict)
    links: dict[str, set[str]] = attrs.Factory(dict)
    holds: dict[str, LegalHold] = attrs.Factory(dict)
    fingerprint: str | None = None


class MemoryVaultMixin:
    """The vault of `MemoryStore` (mixed in; uses its lock and its append)."""

    _lock: threading.RLock
    _vault_state: _MemoryVault | None = None
    # The host store's `Store.append`; the host defines it, this only declares the need.
    append: Callable[..., AppendResult]

    @property
    def _vault(self) -> _MemoryVault:
        if self._vault_state is None:
            self._vault_state = _MemoryVault()
        return self._vault_state

    def append_with_vault(
        self,
        ledger: str,
        body: Mapping[str, Any],
        *,
        change: VaultChange,
        **options: Unpack[AppendOptions],
    ) -> AppendResult:
        """Append an audit entry, write *request* and apply *change*, atomically."""
        with self._lock:
            # The append either raises before changing anything or succeeds; the vault
            # change below cannot fail, and the lock hides the gap from other threads.
            result = self.append(ledger, body, **options)
            vault = self._vault
            for key in change.keys:
                vault.keys[key.subject] = key
                vault.subjects[key.subject] = SubjectRecord(key.subject, key.kid, key.created_at)
            for tag, subject in change.index:
                vault.index.setdefault(tag, subject)
            for subject, request_id in change.links:
                vault.links.setdefault(subject, set()).add(request_id)
            for subject in change.erase:
                vault.keys.pop(subject, None)
                known = vault.subjects.get(subject)
                if known is not None:
                    vault.subjects[subject] = attrs.evolve(known, erased_at=change.at)
                vault.index = {t: s for t, s in vault.index.items() if s != subject}
            for hold in change.holds:
                vault.holds[hold.id] = hold
            for hold_id in change.release:
                vault.holds.pop(hold_id, None)
        return result

    def vault_key(self, subject: str) -> WrappedKey | None:
        """Return the wrapped key of *subject* (``None`` if unknown or erased)."""
        with self._lock:
            return self._vault.keys.get(subject)

    def vault_subject(self, subject: str) -> SubjectRecord | None:
        """Return what the vault knows of *subject*, or ``None``."""
        with self._lock:
            return self._vault.subjects.get(subject)

    def vault_subjects(self) -> list[str]:
        """Return every data-subject id, sorted."""
        with self._lock:
            return sorted(self._vault.subjects)

    def vault_find(self, tag: str) -> str | None:
        """Return the subject indexed under keyed *tag*, or ``None``."""
        with self._lock:
            return self._vault.index.get(tag)

    def vault_requests(self, subject: str) -> list[str]:
        """Return the ids of the requests that hold *subject*'s data, sorted."""
        with self._lock:
            return sorted(self._vault.links.get(subject, ()))

    def vault_holds(
        self, *, subject: str | None = None, requests: tuple[str, ...] = ()
    ) -> list[LegalHold]:
        """Return the active holds on *subject* or on any of *requests*."""
        with self._lock:
            holds = sorted(self._vault.holds.values(), key=lambda h: h.id)
        return [
            h
            for h in holds
            if (subject is not None and h.subject == subject) or (h.request in requests)
        ]

    def vault_hold(self, hold_id: str) -> LegalHold | None:
        """Return the active hold *hold_id*, or ``None``."""
        with self._lock:
            return self._vault.holds.get(hold_id)

    # -- the master key's fingerprint (apart from the vault tables) --------------------

    def vault_fingerprint(self, candidate: str | None) -> str | None:
        """Record *candidate* unless a fingerprint is recorded; return the recorded one."""
        with self._lock:
            if self._vault.fingerprint is None and candidate is not None:
                self._vault.fingerprint = candidate
            return self._vault.fingerprint
