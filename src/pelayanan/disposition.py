"""Deprecated: disposisi moved to `pelayanan.routing`; import the names from there."""

import warnings

from pelayanan.routing._disposisi import (
    DispositionTarget,
    TrailStep,
    close_disposition,
    find_open,
    issue,
    open_children,
    routing_trail,
)

__all__ = [
    "DispositionTarget",
    "TrailStep",
    "close_disposition",
    "find_open",
    "issue",
    "open_children",
    "routing_trail",
]

warnings.warn(
    "pelayanan.disposition is deprecated; import these names from pelayanan.routing",
    DeprecationWarning,
    stacklevel=2,
)
