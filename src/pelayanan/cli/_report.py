"""``pelayanan report``: accountability figures."""

from __future__ import annotations

import click

from pelayanan.cli._report_ikm import ikm_command

__all__ = ["report_group"]


@click.group("report")
def report_group() -> None:
    """Accountability figures: the IKM satisfaction index."""


report_group.add_command(ikm_command)
