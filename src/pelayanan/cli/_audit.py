"""``pelayanan audit``: verify and export the audit log."""

from __future__ import annotations

from pathlib import Path

import click

from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.export import verify_export, write_export
from pelayanan.audit.verify import VerificationReport, verify_ledger
from pelayanan.cli._common import fail, load_trusted_keys, open_db
from pelayanan.exceptions import PelayananError, VerificationError

__all__ = ["audit_group"]


@click.group("audit")
def audit_group() -> None:
    """Verify, export and prove the audit log."""


@audit_group.command("verify")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--db", help="A SQLite store path.")
@click.option(
    "--trusted-key",
    "trusted",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A public key PEM to trust (repeatable). Default: the keys in DB.keys/.",
)
@click.option("--keys", "keys_dir", help="A key folder whose public keys to trust.")
@click.option(
    "--since",
    type=click.Path(dir_okay=False),
    help="A signed checkpoint saved earlier: the log must still extend it.",
)
def verify_command(
    file: str | None,
    db: str | None,
    trusted: tuple[str, ...],
    keys_dir: str | None,
    since: str | None,
) -> None:
    """Verify a whole log: sequence, chain, Merkle roots and checkpoint signatures.

    Exit 0 when intact (one summary line per ledger); exit 1 when tampered or
    unverifiable, the first line naming the entry and the reason.
    """
    if (file is None) == (db is None):
        fail("give either --db DB or an export FILE.jsonl", 2)
    store = open_db(db) if db is not None else None
    try:
        keys = load_trusted_keys(trusted, keys_dir, db)
        saved = None
        if since is not None:
            try:
                saved = SignedCheckpoint.parse(Path(since).read_text(encoding="utf-8"))
            except OSError as exc:
                fail(f"cannot read checkpoint {since}: {exc.strerror}", 2)
        reports: list[VerificationReport] = []
        if store is not None:
            try:
                ledgers = store.ledgers()
                if not ledgers:
                    fail(f"{db}: the store holds no ledger", 1)
                for ledger in ledgers:
                    ledger_since = saved if saved and saved.checkpoint.ledger == ledger else None
                    reports.append(
                        verify_ledger(
                            ledger,
                            ((e.seq, e.data) for e in store.entries(ledger)),
                            store.checkpoints(ledger),
                            keys,
                            since=ledger_since,
                        )
                    )
            finally:
                store.close()
        else:
            assert file is not None
            reports = verify_export(file, keys, since=saved)
        if saved is not None and saved.checkpoint.ledger not in {r.ledger for r in reports}:
            fail(f"unverifiable: the log has no ledger {saved.checkpoint.ledger!r}", 1)
    except VerificationError as exc:
        first = (
            f"entry {exc.seq}: {exc.reason}"
            if exc.seq is not None
            else (f"unverifiable: {exc.reason}")
        )
        if exc.ledger:
            first += f" (ledger {exc.ledger})"
        fail(first, 1)
    except PelayananError as exc:
        fail(f"unverifiable: {exc}", 1)
    for report in reports:
        click.echo(f"OK {report.summary()}")


@audit_group.command("export")
@click.option("--db", required=True, help="A SQLite store path.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
def export_command(db: str, output: str) -> None:
    """Write the log in the documented JSONL export format (docs/audit-format.md)."""
    store = open_db(db)
    try:
        with Path(output).open("wb") as out:
            count = write_export(store, out)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}", 1)
    finally:
        store.close()
    click.echo(f"exported {count} entries to {output}")
