"""``pelayanan store``: inspect a store and import a verified export into an empty one."""

from __future__ import annotations

import click

from pelayanan.audit.verify import fault_line
from pelayanan.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED_CHECK,
    db_option,
    example,
    fail,
    keys_option,
    load_trusted_keys,
    opened_db,
    trusted_key_option,
)
from pelayanan.exceptions import PelayananError, StoreNotEmptyError, VerificationError
from pelayanan.store import open_store
from pelayanan.store.transfer import import_export

__all__ = ["store_group"]


@click.group("store", epilog=example("pelayanan store info --db pelayanan-demo.db"))
def store_group() -> None:
    """Inspect stores; import a JSONL audit export; move a ledger (see docs/storage.md)."""


@store_group.command(
    "info",
    epilog=example(
        "pelayanan store info --db pelayanan-demo.db",
        "pelayanan store info --db postgresql://pelayanan@db.example/pelayanan",
    ),
)
@db_option()
def info_command(db: str) -> None:
    """Print the store's backend, schema version and each ledger's size."""
    with opened_db(db, prefix="cannot read store", read_only=True) as store:
        version = getattr(store, "schema_version", None)
        click.echo(f"store {store!r}")
        if version is not None:
            click.echo(f"schema version {version()}")
        ledgers = store.ledgers()
        for ledger in ledgers:
            head = store.head(ledger)
            click.echo(f"ledger {ledger}: {head.size} entries, root {head.range.root().hex()}")
        if not ledgers:
            click.echo("no ledger")


@store_group.command("migrate", epilog=example("pelayanan store migrate --db pelayanan.db"))
@db_option()
def migrate_command(db: str) -> None:
    """Bring an existing store up to this pelayanan's schema version, in one transaction.

    Read-only commands (verify, export, prove, reports) never migrate; they ask for this.
    """
    # A writable open migrates, step by step.
    with opened_db(db, prefix="cannot migrate store") as store:
        version = getattr(store, "schema_version", None)
        click.echo(f"store {store!r} at schema version {version() if version else '-'}")


@store_group.command(
    "import",
    epilog=example(
        "pelayanan store import export.jsonl --db copy.db --trusted-key ledger-public.pem"
    ),
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@db_option()
@trusted_key_option("A public key PEM whose checkpoints to trust (repeatable).")
@keys_option("A key folder whose keyring (or public keys) to trust.")
def import_command(file: str, db: str, trusted: tuple[str, ...], keys_dir: str | None) -> None:
    """Verify FILE with the trusted keys, then copy it into the empty store --db.

    The store may be new (a SQLite file is created).  Exit 0 when imported; 1 when the
    export does not verify; 2 when the store is not empty or a key cannot be read
    (nothing is written in any of these cases).
    """
    try:
        keys = load_trusted_keys(trusted, keys_dir, None)
    except PelayananError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    try:
        # Unlike the other commands, import may create a new SQLite file.
        store = open_store(db)
    except PelayananError as exc:
        fail(f"cannot open store {db}: {exc}", EXIT_BAD_INPUT)
    try:
        reports = import_export(store, file, keys)
    except StoreNotEmptyError as exc:
        fail(f"import refused: {exc}", EXIT_BAD_INPUT)
    except VerificationError as exc:
        fail(f"import refused, the export does not verify: {fault_line(exc)}", EXIT_FAILED_CHECK)
    except PelayananError as exc:
        fail(f"import failed: {exc}", EXIT_BAD_INPUT)
    finally:
        store.close()
    for report in reports:
        click.echo(f"imported {report.summary()}")


@store_group.command(
    "move",
    epilog=example(
        "pelayanan store move --map ledgers.toml --ledger dinas-a "
        "--to postgresql://pelayanan@db2.example/pelayanan --keys ledger.keys"
    ),
)
@click.option("--map", "map_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The ledger map file (TOML, YAML or JSON).")  # fmt: skip
@click.option("--ledger", required=True, help="The ledger to move.")
@click.option("--to", "to", required=True, help="The store to move it to (a URL or a path).")
@trusted_key_option("A public key PEM whose checkpoints to trust (repeatable).")
@keys_option("A key folder whose keyring (or public keys) to trust.")
def move_command(
    map_file: str, ledger: str, to: str, trusted: tuple[str, ...], keys_dir: str | None
) -> None:
    """Move LEDGER to the store TO and switch the ledger map MAP to it.

    Exports the ledger, verifies the export with the trusted keys, imports it into TO,
    checks that size and root are equal in both stores, copies its request rows, then
    replaces MAP atomically and marks the ledger as moved in the old store.  Stop the
    ledger's writers first.  Exit 0 when moved, 1 when refused (the map is unchanged).
    """
    from pelayanan.store.ledger_map import move_ledger  # noqa: PLC0415 - start-up time

    try:
        keys = load_trusted_keys(trusted, keys_dir, None)
    except PelayananError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    try:
        moved = move_ledger(map_file, ledger, to, keys)
    except PelayananError as exc:
        fail(f"move refused: {exc}", EXIT_FAILED_CHECK)
    click.echo(
        f"moved ledger {moved.ledger} from {moved.source} to {moved.target}: {moved.size} "
        f"entries, root {moved.root}, {moved.requests} request rows; {map_file} updated"
    )
