"""The pelayanan command line."""

from __future__ import annotations

from pelayanan.cli._main import cli, main

__all__ = ["cli", "main"]
