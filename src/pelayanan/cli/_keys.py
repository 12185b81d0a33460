"""``pelayanan keys``: ledger keys and their keyring (generate, rotate, revoke, list)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click

from pelayanan.audit.entry import format_time
from pelayanan.audit.keyring import (
    KEYRING_FILE,
    create_key_folder,
    load_keyring,
    revoke_key,
    rotate_key_folder,
)
from pelayanan.cli._common import EXIT_BAD_INPUT, db_option, example, fail, key_folder
from pelayanan.exceptions import KeyMaterialError
from pelayanan.store import is_url

__all__ = ["keys_group"]


def _instant(value: str | None) -> dt.datetime:
    """Parse an ``--at`` option (ISO 8601 with offset); the wall clock when absent."""
    if value is None:
        # The command line is the edge of the library: here "now" is the real clock.
        return dt.datetime.now(dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        fail(
            f"--at {value!r}: not an ISO 8601 instant (e.g. 2026-07-06T08:00:00+07:00)",
            EXIT_BAD_INPUT,
        )
    if parsed.tzinfo is None:
        fail(f"--at {value!r}: give a UTC offset (e.g. +07:00 for WIB)", EXIT_BAD_INPUT)
    return parsed


def _passphrase(env: str | None) -> bytes | None:
    if env is None:
        return None
    value = os.environ.get(env)
    if not value:
        fail(
            f"environment variable {env} is empty or unset; it must hold the passphrase",
            EXIT_BAD_INPUT,
        )
    return value.encode("utf-8")


def _folder(keys_dir: str | None, db: str | None) -> Path:
    """Return the existing key folder named by ``--keys``, else ``DB.keys/``; or exit 2."""
    if not keys_dir and not db:
        fail("give --keys DIR (or --db STORE to use STORE.keys/)", EXIT_BAD_INPUT)
    if not keys_dir and is_url(db or ""):
        fail("a server store keeps no key folder beside it: give --keys DIR", EXIT_BAD_INPUT)
    folder = key_folder(keys_dir, db or "")
    if not folder.is_dir():
        fail(f"{folder}: no such key folder", EXIT_BAD_INPUT)
    return folder


_PASSPHRASE_HELP = "Encrypt the private key with the passphrase in this environment variable."  # noqa: S105 - help text
_AT_HELP = "The instant it takes effect (ISO 8601 with offset); default: now."
_KEYS_HELP = "The key folder (default: STORE.keys/ beside a SQLite --db)."


@click.group("keys", epilog=example("pelayanan keys list --keys pelayanan-demo.db.keys"))
def keys_group() -> None:
    """Manage Ed25519 ledger keys and their keyring."""


@keys_group.command("generate", epilog=example("pelayanan keys generate --out unit.keys"))
@click.option("--out", "out_dir", required=True, help="Folder to write the key pair into.")
@click.option("--valid-from", "valid_from", help=_AT_HELP)
@click.option("--passphrase-env", help=_PASSPHRASE_HELP)
def generate_command(out_dir: str, valid_from: str | None, passphrase_env: str | None) -> None:
    """Generate a ledger key pair (private and public PEM) and start the folder's keyring."""
    try:
        key = create_key_folder(
            out_dir, valid_from=_instant(valid_from), passphrase=_passphrase(passphrase_env)
        )
    except KeyMaterialError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    folder = Path(out_dir)
    click.echo(f"private key: {folder / 'ledger-private.pem'} (keep it secret)")
    click.echo(f"public key:  {folder / 'ledger-public.pem'} (give it to auditors)")
    click.echo(f"keyring:     {folder / KEYRING_FILE}")
    click.echo(f"key name:    {key.verifier.name} (id {key.verifier.key_id})")


@keys_group.command("rotate", epilog=example("pelayanan keys rotate --keys pelayanan-demo.db.keys"))
@click.option("--keys", "keys_dir", help=_KEYS_HELP)
@db_option(required=False)
@click.option("--at", "at", help=_AT_HELP)
@click.option("--passphrase-env", help=_PASSPHRASE_HELP)
def rotate_command(
    keys_dir: str | None, db: str | None, at: str | None, passphrase_env: str | None
) -> None:
    """Make a new key active: the old key's validity ends, its checkpoints still verify."""
    folder = _folder(keys_dir, db)
    try:
        old, new = rotate_key_folder(
            folder, at=_instant(at), passphrase=_passphrase(passphrase_env)
        )
    except KeyMaterialError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    assert old.valid_until is not None
    click.echo(f"retired:   {old.name} (valid until {format_time(old.valid_until)})")
    click.echo(f"active:    {new.name} (id {new.verifier.key_id})")
    click.echo(f"public key for auditors: {folder / 'ledger-public.pem'}")


@keys_group.command(
    "revoke",
    epilog=example("pelayanan keys revoke ledger-2026 --keys unit.keys --reason 'laptop stolen'"),
)
@click.argument("name")
@click.option("--keys", "keys_dir", help=_KEYS_HELP)
@db_option(required=False)
@click.option("--reason", required=True, help="Why (public, kept in the keyring).")
@click.option("--at", "at", help=_AT_HELP)
def revoke_command(
    name: str, keys_dir: str | None, db: str | None, reason: str, at: str | None
) -> None:
    """Revoke key NAME (name or key id): its checkpoints from then on no longer verify."""
    folder = _folder(keys_dir, db)
    try:
        revoked = revoke_key(folder, name, at=_instant(at), reason=reason)
    except KeyMaterialError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    assert revoked.revoked_at is not None
    click.echo(f"revoked:   {revoked.name} from {format_time(revoked.revoked_at)} ({reason})")


@keys_group.command("list", epilog=example("pelayanan keys list --keys pelayanan-demo.db.keys"))
@click.option("--keys", "keys_dir", help=_KEYS_HELP)
@db_option(required=False)
def list_command(keys_dir: str | None, db: str | None) -> None:
    """List the keyring: each key's id, validity and revocation."""
    folder = _folder(keys_dir, db)
    try:
        keyring = load_keyring(folder)
    except KeyMaterialError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    if keyring is None:
        fail(f"{folder}: no {KEYRING_FILE}", EXIT_BAD_INPUT)
    active = keyring.active()
    for key in keyring.keys:
        start = format_time(key.valid_from) if key.valid_from else "-"
        end = format_time(key.valid_until) if key.valid_until else "-"
        status = "active" if key is active else "retired"
        if key.revoked_at is not None:
            status = f"revoked {format_time(key.revoked_at)}: {key.revocation_reason}"
        click.echo(f"{key.name}  id {key.key.key_id}  {start} .. {end}  {status}")
