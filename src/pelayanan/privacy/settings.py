"""How a desk protects personal data, and the values its privacy operations produce.

`PrivacySettings` is what a host passes to ``ServiceDesk(privacy=...)``; `Sealed` is a
request's fields split into clear and sealed parts; `ErasureResult` says what an erasure
destroyed.  The operations themselves live in the desk (`pelayanan.desk`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from pelayanan.privacy.retention import RetentionSchedule
from pelayanan.privacy.vault import Vault
from pelayanan.store.vault import VaultChange

__all__ = [
    "DATA_PROTECTION_OFFICER",
    "LEGAL_OFFICER",
    "ErasureResult",
    "PrivacySettings",
    "Sealed",
]

#: The role that answers data-subject requests (access, erasure) and places legal holds.
DATA_PROTECTION_OFFICER = "data_protection_officer"
#: The role of legal staff, who may place and release legal holds.
LEGAL_OFFICER = "legal_officer"


@attrs.frozen
class PrivacySettings:
    """How a desk protects personal data.

    Attributes:
        vault: the vault holding the host's master key.
        retention: the retention classes (none by default: see `RetentionSchedule`).
        officer_roles: roles that may answer data-subject requests (access, erasure).
        hold_roles: roles that may place and release legal holds.
        erasure_wait: the most seconds an erasure waits for other readers of the store
            to let go of the erased pages before it reports that they still hold them.
    """

    vault: Vault
    retention: RetentionSchedule = attrs.field(factory=RetentionSchedule)
    officer_roles: tuple[str, ...] = (DATA_PROTECTION_OFFICER,)
    hold_roles: tuple[str, ...] = (DATA_PROTECTION_OFFICER, LEGAL_OFFICER)
    erasure_wait: float = 5.0


@attrs.frozen
class Sealed:
    """Request fields split into clear and sealed parts, and the vault change to commit.

    Attributes:
        clear: the non-personal fields.
        sealed: personal field name -> sealed reference.
        subject: the data subject the sealed fields belong to, if any.
        change: the vault rows to write with the entry, if any.
    """

    clear: Mapping[str, Any]
    sealed: Mapping[str, Any]
    subject: str | None
    change: VaultChange | None


@attrs.frozen
class ErasureResult:
    """A committed erasure: whose key was destroyed, which requests it touched, the entry.

    Attributes:
        subject: the data subject erased.
        requests: the requests that held its data.
        seq: the ``erasure`` entry's sequence number.
        entry_hash: its hash.
        overwritten: whether the old copies of the key's pages were overwritten in the
            store's files (``None``: the store keeps no such copies, e.g. in memory).
        held_by: when not overwritten, what still holds them (another reader).
    """

    subject: str
    requests: tuple[str, ...]
    seq: int
    entry_hash: str
    overwritten: bool | None = None
    held_by: str | None = None
