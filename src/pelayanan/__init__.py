"""pelayanan: SOP workflow and accountability logic for public services."""

from __future__ import annotations

from pelayanan.exceptions import PelayananError, PelayananWarning

__all__ = ["PelayananError", "PelayananWarning", "__version__"]

__version__ = "0.1.0.dev0"
