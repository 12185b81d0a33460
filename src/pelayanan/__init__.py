"""pelayanan: SOP workflow and accountability logic for public services.

The names a host application needs are importable from here::

    from pelayanan import Actor, ServiceDesk, SQLiteStore, generate_key_pair, load_sop

They load on first use (PEP 562), so ``import pelayanan`` stays cheap: the state machine,
the cryptography of keys and vaults, and the optional PostgreSQL driver are imported only
by the code that needs them.  Everything else lives in the capability packages
(`pelayanan.sop`, `pelayanan.calendar`, `pelayanan.sla`, `pelayanan.routing`,
`pelayanan.audit`, `pelayanan.store`, `pelayanan.privacy`, `pelayanan.reports`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0.dev0"

__all__ = [
    "ActionResult",
    "Actor",
    "Clock",
    "ConfigurationError",
    "Duration",
    "FieldNotAllowedError",
    "GuardNotMetError",
    "IncompleteRequestError",
    "KeyringSigner",
    "MemoryStore",
    "PelayananError",
    "PelayananWarning",
    "PermissionDeniedError",
    "PostgresStore",
    "PrivacySettings",
    "RequestError",
    "SOP",
    "SOPDefinitionError",
    "SOPRegistry",
    "SQLiteStore",
    "ServiceDesk",
    "Store",
    "StoreError",
    "SystemClock",
    "TransitionNotAllowedError",
    "UnknownRequestError",
    "VerificationError",
    "WorkCalendar",
    "__version__",
    "create_key_folder",
    "generate_key_pair",
    "generate_master_key",
    "indonesian_government_calendar",
    "load_master_key",
    "load_private_key",
    "load_public_key",
    "load_signing_key",
    "load_sop",
    "open_store",
    "rotate_key_folder",
    "verify_export",
    "verify_ledger",
    "write_key_pair",
    "write_master_key",
]

# Where each front-door name is defined: the public module a user could also import it from.
_ORIGINS: dict[str, str] = {
    "ActionResult": "pelayanan.desk",
    "Actor": "pelayanan.access",
    "Clock": "pelayanan.clock",
    "ConfigurationError": "pelayanan.exceptions",
    "Duration": "pelayanan.calendar",
    "FieldNotAllowedError": "pelayanan.exceptions",
    "GuardNotMetError": "pelayanan.exceptions",
    "IncompleteRequestError": "pelayanan.exceptions",
    "KeyringSigner": "pelayanan.audit.keyring",
    "MemoryStore": "pelayanan.store",
    "PelayananError": "pelayanan.exceptions",
    "PelayananWarning": "pelayanan.exceptions",
    "PermissionDeniedError": "pelayanan.exceptions",
    "PostgresStore": "pelayanan.store.postgres",
    "PrivacySettings": "pelayanan.privacy",
    "RequestError": "pelayanan.exceptions",
    "SOP": "pelayanan.sop",
    "SOPDefinitionError": "pelayanan.exceptions",
    "SOPRegistry": "pelayanan.sop",
    "SQLiteStore": "pelayanan.store",
    "ServiceDesk": "pelayanan.desk",
    "Store": "pelayanan.store",
    "StoreError": "pelayanan.exceptions",
    "SystemClock": "pelayanan.clock",
    "TransitionNotAllowedError": "pelayanan.exceptions",
    "UnknownRequestError": "pelayanan.exceptions",
    "VerificationError": "pelayanan.exceptions",
    "WorkCalendar": "pelayanan.calendar",
    "create_key_folder": "pelayanan.audit.keyring",
    "generate_key_pair": "pelayanan.audit.keys",
    "generate_master_key": "pelayanan.privacy",
    "indonesian_government_calendar": "pelayanan.calendar",
    "load_master_key": "pelayanan.privacy",
    "load_private_key": "pelayanan.audit.keys",
    "load_public_key": "pelayanan.audit.keys",
    "load_signing_key": "pelayanan.audit.keys",
    "load_sop": "pelayanan.sop",
    "open_store": "pelayanan.store",
    "rotate_key_folder": "pelayanan.audit.keyring",
    "verify_export": "pelayanan.audit.export",
    "verify_ledger": "pelayanan.audit.verify",
    "write_key_pair": "pelayanan.audit.keys",
    "write_master_key": "pelayanan.privacy",
}

if TYPE_CHECKING:
    from pelayanan.access import Actor
    from pelayanan.audit.export import verify_export
    from pelayanan.audit.keyring import KeyringSigner, create_key_folder, rotate_key_folder
    from pelayanan.audit.keys import (
        generate_key_pair,
        load_private_key,
        load_public_key,
        load_signing_key,
        write_key_pair,
    )
    from pelayanan.audit.verify import verify_ledger
    from pelayanan.calendar import Duration, WorkCalendar, indonesian_government_calendar
    from pelayanan.clock import Clock, SystemClock
    from pelayanan.desk import ActionResult, ServiceDesk
    from pelayanan.exceptions import (
        ConfigurationError,
        FieldNotAllowedError,
        GuardNotMetError,
        IncompleteRequestError,
        PelayananError,
        PelayananWarning,
        PermissionDeniedError,
        RequestError,
        SOPDefinitionError,
        StoreError,
        TransitionNotAllowedError,
        UnknownRequestError,
        VerificationError,
    )
    from pelayanan.privacy import (
        PrivacySettings,
        generate_master_key,
        load_master_key,
        write_master_key,
    )
    from pelayanan.sop import SOP, SOPRegistry, load_sop
    from pelayanan.store import MemoryStore, SQLiteStore, Store, open_store
    from pelayanan.store.postgres import PostgresStore


def _load(name: str) -> object:
    """Import a front-door name from its module on first use and keep it here.

    Raises:
        AttributeError: *name* is not a front-door name.
        ImportError: the name needs an optional extra that is not installed.
    """
    module = _ORIGINS.get(name)
    if module is None:
        msg = f"module 'pelayanan' has no attribute {name!r}"
        raise AttributeError(msg)
    try:
        value = getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        if module != "pelayanan.store.postgres":
            raise
        # The one front-door name behind an optional extra: say how to get it.
        msg = (
            f"PostgresStore needs the postgres extra ({exc.name} is missing): "
            "pip install 'pelayanan[postgres]'"
        )
        raise ImportError(msg, name=exc.name) from None
    # Later lookups find the name in the module dict and skip this function.
    globals()[name] = value
    return value


if not TYPE_CHECKING:
    # Hidden from type checkers, so that a misspelt name is still a type error for them.
    __getattr__ = _load


def __dir__() -> list[str]:
    """List the front-door names with the module's own attributes."""
    return sorted({*globals(), *__all__})
