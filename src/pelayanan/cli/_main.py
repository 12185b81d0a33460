"""The ``pelayanan`` command group."""

from __future__ import annotations

import click

from pelayanan import __version__
from pelayanan.cli._audit import audit_group
from pelayanan.cli._calendar import calendar_group
from pelayanan.cli._common import tune_collector
from pelayanan.cli._demo import demo_command
from pelayanan.cli._keys import keys_group
from pelayanan.cli._privacy import privacy_group
from pelayanan.cli._report import report_group
from pelayanan.cli._sop import sop_group
from pelayanan.cli._store import store_group
from pelayanan.cli._witness import add_witness_commands

__all__ = ["cli", "main"]


@click.group()
@click.version_option(__version__, prog_name="pelayanan")
def cli() -> None:
    """pelayanan: SOP workflow, SLA clocks and a verifiable audit log for public services."""


cli.add_command(demo_command)
cli.add_command(audit_group)
add_witness_commands(audit_group)  # audit checkpoint / consistency / witness
cli.add_command(calendar_group)
cli.add_command(keys_group)
cli.add_command(report_group)
cli.add_command(sop_group)
cli.add_command(privacy_group)
cli.add_command(store_group)


def main() -> None:
    """Run the command line."""
    tune_collector()
    cli()
