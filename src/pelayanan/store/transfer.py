"""Import a JSONL audit export into an empty store, verifying it before anything is written.

Export is `pelayanan.audit.export.write_export` (streaming, any backend).  Import reads
the file twice, both times streaming with flat memory: first the full verifier checklist
(`verify_export`, with the trusted keys given), then a copy of the entries and checkpoint
notes verbatim through `Store.bulk_append`, which rebuilds the Merkle nodes and the head
and refuses anything that does not continue the chain.  Requests and idempotency keys
are not part of the audit format and are not recreated (the store records how many
entries each ledger imported, so `verify_store` does not look for their rows).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from pelayanan.audit.export import ExportRecord, read_export, verify_export
from pelayanan.audit.keyring import TrustedKey
from pelayanan.audit.keys import VerifierKey
from pelayanan.audit.verify import Progress, VerificationReport
from pelayanan.exceptions import StoreError, StoreNotEmptyError
from pelayanan.store.base import Store

__all__ = ["copy_verified", "import_export", "imported_meta_key", "is_empty"]


def is_empty(store: Store) -> bool:
    """Return whether *store* holds no ledger and no request."""
    return not store.ledgers() and next(iter(store.requests()), None) is None


def import_export(
    store: Store,
    path: str | Path,
    trusted_keys: Sequence[VerifierKey | TrustedKey],
    *,
    progress: Progress | None = None,
) -> list[VerificationReport]:
    """Verify the export at *path*, then copy its ledgers into the empty *store*.

    Each ledger is copied in one transaction; the store's head afterwards must have the
    size and root the verifier computed.

    Args:
        store: the target; it must hold no ledger and no request.
        path: the JSONL export.
        trusted_keys: the keys whose checkpoint signatures count.
        progress: passed to the verifier.

    Returns:
        The verification report of each ledger, in file order.

    Raises:
        StoreNotEmptyError: *store* already holds data (nothing is written).
        VerificationError: the export does not verify (nothing is written).
        StoreError: the file changed between verification and copy.
    """
    if not is_empty(store):
        msg = f"{store!r} already holds ledgers or requests: import only into an empty store"
        raise StoreNotEmptyError(msg)
    reports = verify_export(path, trusted_keys, progress=progress)
    copy_verified(store, path, reports)
    for report in reports:
        # The export carries the log, not the request rows: `verify_store` does not ask
        # for rows of requests submitted in the imported part.
        set_meta = getattr(store, "set_meta", None)
        if set_meta is not None:
            set_meta(imported_meta_key(report.ledger), str(report.size))
    return reports


def copy_verified(store: Store, path: str | Path, reports: Sequence[VerificationReport]) -> None:
    """Copy the verified export at *path* into *store*, one transaction per ledger.

    Args:
        store: the target, holding none of the export's ledgers.
        path: the JSONL export.
        reports: what `verify_export` found in it.

    Raises:
        StoreError: a copied ledger's size or root differs from its report (the file
            changed after verification).
    """
    section = _Sections(read_export(path))
    while (ledger := section.next_ledger()) is not None:
        store.bulk_append(ledger, section.records())
    for report in reports:
        head = store.head(report.ledger)
        if head.size != report.size or head.range.root() != report.root:
            msg = (
                f"ledger {report.ledger!r}: the copy has {head.size} entries and root "
                f"{head.range.root().hex()[:16]}..., the verified file {report.size} and "
                f"{report.root.hex()[:16]}...: {path} changed during the import"
            )
            raise StoreError(msg)


def imported_meta_key(ledger: str) -> str:
    """Return the ``meta`` key recording how many entries of *ledger* came from an import."""
    return f"imported_entries:{ledger}"


class _Sections:
    """Split a stream of export records into one record stream per ledger header."""

    def __init__(self, records: Iterator[ExportRecord]) -> None:
        self._records = records
        self._pending: ExportRecord | None = next(records, None)

    def next_ledger(self) -> str | None:
        """Return the ledger of the next header, or ``None`` at the end."""
        while self._pending is not None and self._pending.kind != "header":
            self._pending = next(self._records, None)  # unread rest of a failed section
        return None if self._pending is None else self._pending.ledger

    def records(self) -> Iterator[bytes | str]:
        """Yield the entry bytes and checkpoint notes of the current ledger."""
        self._pending = None
        for record in self._records:
            if record.kind == "header":
                self._pending = record
                return
            yield record.data if record.kind == "entry" else record.note
