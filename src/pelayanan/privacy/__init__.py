"""Personal data in an immutable log: per-subject encryption, audited reveal, erasure.

Personal request fields (marked by an SOP's ``privacy`` section) are sealed with
AES-256-GCM under a key of their data subject before they reach the store or the audit
log; each subject key is kept wrapped under the host's master key in the store's vault.
Destroying a subject's key erases them everywhere at once (store, log, exports) while
every hash still verifies.  Reveals, erasures, legal holds and their refusals are
recorded in the audit log.  See docs/privacy.md.
"""

from __future__ import annotations

from pelayanan.privacy.publish import PUBLICATION_FORMAT, publish_statistics
from pelayanan.privacy.retention import RetentionPeriod, RetentionSchedule
from pelayanan.privacy.settings import (
    DATA_PROTECTION_OFFICER,
    LEGAL_OFFICER,
    ErasureResult,
    PrivacySettings,
    Sealed,
)
from pelayanan.privacy.vault import (
    ALGORITHM,
    MASTER_KEY_FILE,
    SubjectKey,
    Vault,
    generate_master_key,
    is_sealed,
    load_master_key,
    new_subject_id,
    write_master_key,
)
from pelayanan.store.vault import LegalHold, SubjectRecord, VaultChange, VaultStore, WrappedKey

__all__ = [
    "ALGORITHM",
    "DATA_PROTECTION_OFFICER",
    "ErasureResult",
    "LEGAL_OFFICER",
    "LegalHold",
    "MASTER_KEY_FILE",
    "PUBLICATION_FORMAT",
    "PrivacySettings",
    "RetentionPeriod",
    "RetentionSchedule",
    "Sealed",
    "SubjectKey",
    "SubjectRecord",
    "Vault",
    "VaultChange",
    "VaultStore",
    "WrappedKey",
    "generate_master_key",
    "is_sealed",
    "load_master_key",
    "new_subject_id",
    "publish_statistics",
    "write_master_key",
]
