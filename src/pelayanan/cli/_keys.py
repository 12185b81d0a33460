"""``pelayanan keys``: ledger key management."""

from __future__ import annotations

import click

from pelayanan.audit.keys import generate_key_pair, write_key_pair
from pelayanan.cli._common import fail
from pelayanan.exceptions import KeyMaterialError

__all__ = ["keys_group"]


@click.group("keys")
def keys_group() -> None:
    """Manage Ed25519 ledger keys."""


@keys_group.command("generate")
@click.option("--out", "out_dir", required=True, help="Folder to write the key pair into.")
def generate_command(out_dir: str) -> None:
    """Generate a new Ed25519 ledger key pair (private and public PEM)."""
    key = generate_key_pair()
    try:
        private_path, public_path = write_key_pair(key, out_dir)
    except KeyMaterialError as exc:
        fail(str(exc), 1)
    click.echo(f"private key: {private_path} (keep it secret)")
    click.echo(f"public key:  {public_path} (give it to auditors)")
    click.echo(f"key name:    {key.verifier.name}")
