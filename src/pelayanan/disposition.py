"""Deprecated: disposisi moved to `pelayanan.routing`; import the names from there."""

import warnings
from typing import Any

from pelayanan.routing import _disposisi

# The names are read from the routing module itself so the shim can never drift from it.
__all__ = list(_disposisi.__all__)


def __getattr__(name: str) -> Any:
    """Return the routing name `name`, kept importable here for old callers.

    Args:
        name: An attribute looked up on this module.

    Returns:
        The object of the same name in `pelayanan.routing`.

    Raises:
        AttributeError: When `name` is not one of the re-exported names.
    """
    if name in __all__:
        return getattr(_disposisi, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """List the re-exported names.

    Returns:
        The sorted names this module still serves.
    """
    return sorted(__all__)


warnings.warn(
    "pelayanan.disposition is deprecated; import these names from pelayanan.routing",
    DeprecationWarning,
    stacklevel=2,
)
