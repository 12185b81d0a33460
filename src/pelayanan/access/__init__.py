"""Who may act: actors, role checks, separation of duties and delegation (Plt/Plh).

`authorize` is the basic check the SOP asks for (the actor holds one of the action's
roles; it did not take one of the action's ``not_by`` actions on this request).
`check_access` adds what the SOP language cannot say yet: the actor is not the person the
request is about (`AccessPolicy`, e.g. a staff member approving their own leave), and
acting with another official's authority (`Delegation`, looked up in a
`DelegationRegistry`).  Every refusal is a `PermissionDeniedError` whose ``rule`` names
the rule that refused it, so the desk can record it in the audit log.

Acting officials: a *Plh* (pelaksana harian) stands in while the official is temporarily
absent, a *Plt* (pelaksana tugas) while the post is vacant.  Both act under a mandate,
which does not extend to strategic decisions changing the legal status of organisation,
staffing or budget (UU 30/2014 tentang Administrasi Pemerintahan, Pasal 14 ayat (7) and
Pasal 34 [S]).  Which actions a delegation covers is therefore always explicit: its roles
and, optionally, a list of actions and a unit.

One person, one spelling: every actor and official id is normalised where it enters
(`normalize_id`: Unicode NFKC, zero-width characters removed, surrounding spaces
stripped; empty ids, control characters and ids longer than `MAX_ID_LENGTH` refused),
and ids are compared by `id_key`, which ignores case unless the host declares its ids
case-sensitive with `set_case_sensitive_ids`.  The recorded id keeps its case.

Units: an actor that declares the units it belongs to (`Actor.units`) may act only on
requests held by one of them, unless it holds a role the `AccessPolicy` declares as
spanning units (``cross_unit_roles``).  An actor that declares no unit is not checked,
as before units were known.
"""

from __future__ import annotations

from pelayanan.access._actor import SYSTEM, Actor, authorize
from pelayanan.access._check import AccessPolicy, Grant, SubjectRule, check_access
from pelayanan.access._config import access_config_from_dict
from pelayanan.access._config import read_access_config as read_access_config  # for routing
from pelayanan.access._delegation import DELEGATION_KINDS, Delegation, DelegationRegistry
from pelayanan.access._ids import (
    MAX_ID_LENGTH,
    case_sensitive_ids,
    id_key,
    normalize_id,
    same_id,
    set_case_sensitive_ids,
)

__all__ = [
    "DELEGATION_KINDS",
    "MAX_ID_LENGTH",
    "SYSTEM",
    "AccessPolicy",
    "Actor",
    "Delegation",
    "DelegationRegistry",
    "Grant",
    "SubjectRule",
    "access_config_from_dict",
    "authorize",
    "case_sensitive_ids",
    "check_access",
    "id_key",
    "normalize_id",
    "same_id",
    "set_case_sensitive_ids",
]
