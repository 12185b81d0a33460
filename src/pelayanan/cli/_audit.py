"""``pelayanan audit``: verify, export and prove the audit log."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TimeRemainingColumn
from rich.progress import Progress as ProgressBar

from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.export import verify_export, write_export
from pelayanan.audit.keyring import TrustedKey
from pelayanan.audit.keys import VerifierKey, load_public_key
from pelayanan.audit.receipt import Receipt, check_receipt, make_receipt
from pelayanan.audit.verify import Progress, VerificationReport
from pelayanan.cli._common import (
    fail,
    force_option,
    format_option,
    keys_option,
    load_trusted_keys,
    open_db,
    opened_db,
    output_file,
    output_option,
    trusted_key_option,
    write_output,
)
from pelayanan.cli._witness import (
    SavedCheckpoint,
    add_witness_commands,
    check_saved,
    newest_per_ledger,
    read_saved,
)
from pelayanan.exceptions import PelayananError, ProofError, VerificationError
from pelayanan.store import read_snapshot, verify_store
from pelayanan.store.base import LedgerNodes, Store

__all__ = ["audit_group"]


@click.group("audit")
def audit_group() -> None:
    """Verify, export and prove the audit log."""


@contextlib.contextmanager
def _progress_bar() -> Iterator[Progress | None]:
    """Yield a progress callback drawing a bar on stderr, or ``None`` off a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    bar = ProgressBar(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    tasks: dict[str, object] = {}

    def update(ledger: str, done: int, total: int) -> None:
        task = tasks.get(ledger)
        if task is None:
            task = tasks[ledger] = bar.add_task(f"ledger {ledger}", total=total or None)
        bar.update(task, completed=done)  # type: ignore[arg-type]

    with bar:
        yield update


def _verify_store(
    store: Store,
    keys: Sequence[VerifierKey | TrustedKey],
    saved: Sequence[SignedCheckpoint],
    progress: Progress | None,
) -> list[VerificationReport]:
    """Verify the log and check the store's tables against it; fail on a disagreement."""
    result = verify_store(store, keys, since=saved, progress=progress)
    if result.problems:
        fail("\n".join(problem.render() for problem in result.problems), 1)
    return list(result.ledgers)


@audit_group.command("verify")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--db", help="A SQLite store path, a URL or a ledger map.")
@trusted_key_option(
    "A public key PEM to trust at any time (repeatable). Default: the keyring in DB.keys/."
)
@keys_option("A key folder whose keyring (or public keys) to trust.")
@click.option(
    "--since",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A checkpoint saved earlier (note, cosigned note, receipt or witness state; "
    "repeatable): the log must still extend it.",
)
@click.option(
    "--witness-key",
    "witness_keys",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A witness public key PEM (repeatable): --since checkpoints must carry its cosignature.",
)
@click.option(
    "--witnesses",
    type=click.IntRange(min=0),
    help="How many --witness-key cosignatures each --since checkpoint needs (default 1).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="Processes that check export lines (default: 2 for large exports on 2+ cores).",
)
def verify_command(  # noqa: PLR0917 (click passes options by position)
    file: str | None,
    db: str | None,
    trusted: tuple[str, ...],
    keys_dir: str | None,
    since: tuple[str, ...],
    witness_keys: tuple[str, ...],
    witnesses: int | None,
    jobs: int | None,
) -> None:
    """Verify a whole log: sequence, chain, Merkle roots and checkpoint signatures.

    Exit 0 when intact (one summary line per ledger); exit 1 when tampered or
    unverifiable, the first line naming the entry and the reason.
    """
    if (file is None) == (db is None):
        fail("give either --db DB or an export FILE.jsonl", 2)
    try:
        wkeys = [load_public_key(path) for path in witness_keys]
    except PelayananError as exc:
        fail(f"error: {exc}", 2)
    if (wkeys or witnesses) and not since:
        fail("error: --witness-key and --witnesses check a saved checkpoint: give --since FILE", 2)
    if witnesses and not wkeys:
        fail("error: --witnesses N counts cosignatures by --witness-key PEM: give the keys", 2)
    saved = read_saved(since, wkeys, (1 if wkeys else 0) if witnesses is None else witnesses)
    # The first stderr line stays the verdict; the reminder follows it.
    beside = not trusted and not keys_dir and not wkeys and db is not None
    try:
        reports = _verify_with(file, db, trusted, keys_dir, saved, jobs)
    except SystemExit:
        _remind_beside(beside)
        raise
    for report in reports:
        click.echo(f"OK {report.summary()}")
    for item in saved:
        cp = item.signed.checkpoint
        names = ", ".join(item.witnesses) or "no witness key given"
        click.echo(f"OK ledger {cp.ledger}: extends the checkpoint at size {cp.size} ({names})")
    _remind_beside(beside)


def _remind_beside(beside: bool) -> None:
    """Say on stderr that the keys came from beside the database, when they did."""
    if beside:
        click.echo(
            "trusting keys stored beside the database; pass --trusted-key or --witness-key "
            "for an independent check",
            err=True,
        )


def _verify_with(  # noqa: PLR0917 (the verify command's inputs, passed through)
    file: str | None,
    db: str | None,
    trusted: tuple[str, ...],
    keys_dir: str | None,
    saved: Sequence[SavedCheckpoint],
    jobs: int | None,
) -> list[VerificationReport]:
    """Run the verification of `verify_command`; exit 1 with the first fault."""
    store = open_db(db, read_only=True) if db is not None else None
    newest = newest_per_ledger(saved)
    try:
        keys = load_trusted_keys(trusted, keys_dir, db)
        with _progress_bar() as progress:
            if store is not None:
                reports = _verify_store(store, keys, newest, progress)
                check_saved(store, saved)
            else:
                assert file is not None
                reports = _verify_file(file, keys, saved, progress, jobs)
        known = {r.ledger for r in reports}
        for note in newest:
            if note.checkpoint.ledger not in known:
                fail(f"unverifiable: the log has no ledger {note.checkpoint.ledger!r}", 1)
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
    finally:
        if store is not None:
            store.close()
    return reports


def _verify_file(
    file: str,
    keys: Sequence[VerifierKey | TrustedKey],
    saved: Sequence[SavedCheckpoint],
    progress: Progress | None,
    jobs: int | None,
) -> list[VerificationReport]:
    """Verify an export once per saved checkpoint (once when none is given)."""
    notes: list[SignedCheckpoint | None] = [item.signed for item in saved] or [None]
    reports: list[VerificationReport] = []
    for note in notes:
        reports = verify_export(file, keys, since=note, progress=progress, jobs=jobs)
    return reports


@audit_group.command("export")
@click.option("--db", required=True, help="A SQLite store path.")
@output_option(required=True)
@force_option
@click.option(
    "--all-checkpoints",
    is_flag=True,
    help="Keep every checkpoint (default: one per 1,000 entries, key anchors and the last).",
)
@format_option(
    "jsonl",
    "parquet",
    help_text="jsonl: the verifiable export; parquet: the verified log's entries as flat "
    "rows without personal fields (needs pelayanan[parquet]).",
)
@trusted_key_option("With parquet: a public key PEM to trust. Default: the keys in DB.keys/.")
@keys_option("With parquet: a key folder whose public keys to trust.")
@click.option("--ledger", help="With parquet: the ledger to export (default: the only one).")
def export_command(  # noqa: PLR0917 (click passes options by position)
    db: str,
    output: str,
    force: bool,
    all_checkpoints: bool,
    output_format: str,
    trusted: tuple[str, ...],
    keys_dir: str | None,
    ledger: str | None,
) -> None:
    """Write the log in the documented JSONL export format (docs/audit-format.md), or as
    Parquet rows for analysts.

    FILE is refused when it is the store, its write-ahead log, a key, or an existing file
    (without --force); the export replaces it only once complete.  Parquet is written only
    from a log that verifies (exit 1 otherwise, and no file).
    """
    if output_format == "parquet":
        _export_parquet(db, output, force=force, trusted=trusted, keys_dir=keys_dir, ledger=ledger)
        return
    with (
        opened_db(db, prefix="error: cannot export", read_only=True) as store,
        output_file(output, force=force, db=db) as out,
        read_snapshot(store),
    ):
        count = write_export(store, out, all_checkpoints=all_checkpoints)
    click.echo(f"exported {count} entries to {output}")


def _export_parquet(
    db: str,
    output: str,
    *,
    force: bool,
    trusted: tuple[str, ...],
    keys_dir: str | None,
    ledger: str | None,
) -> None:
    """Verify the log and write its flat rows as Parquet (see `pelayanan.audit.parquet`)."""
    from pelayanan.audit.parquet import ParquetWriter, available  # noqa: PLC0415
    from pelayanan.cli._report_common import ReplayOptions, replay_db  # noqa: PLC0415

    if not available():
        fail("error: --format parquet needs pyarrow: pip install 'pelayanan[parquet]'", 1)
    options = ReplayOptions(db, trusted, keys_dir, ledger, None, (), None)
    with output_file(output, force=force, db=db, keys_dir=keys_dir, inputs=trusted) as out:
        writer = ParquetWriter(out)
        try:
            log = replay_db(options, [writer])
        finally:
            # Also on refusal: the file is closed here, then dropped unrenamed.
            writer.close()
    click.echo(f"exported {writer.rows} verified entries of ledger {log.ledger} to {output}")


@audit_group.command("prove")
@click.option("--db", required=True, help="A SQLite store path.")
@click.option("--seq", required=True, type=click.IntRange(min=0), help="The entry's number.")
@click.option("--ledger", help="The ledger (needed when the store holds several).")
@output_option()
@force_option
@click.option("--no-entry", is_flag=True, help="Leave the entry's bytes out (hash and proof only).")
def prove_command(  # noqa: PLR0917 (click passes options by position)
    db: str, seq: int, ledger: str | None, output: str | None, force: bool, no_entry: bool
) -> None:
    """Write a receipt: entry N's hash, the latest signed checkpoint and the inclusion proof.

    The receipt checks offline with `pelayanan audit check-proof FILE --trusted-key PEM`.
    """
    store = open_db(db, read_only=True)
    try:
        with read_snapshot(store):
            ledgers = store.ledgers()
            if ledger is None:
                if len(ledgers) != 1:
                    fail(
                        f"the store holds ledgers {', '.join(ledgers) or '(none)'}: give --ledger",
                        2,
                    )
                ledger = ledgers[0]
            elif ledger not in ledgers:
                fail(f"{db}: no ledger {ledger!r}", 1)
            entry = next(store.entries(ledger, seq, seq + 1), None)
            if entry is None:
                fail(f"entry {seq}: no such entry in ledger {ledger!r}", 1)
            note = store.latest_checkpoint(ledger)
            if note is None:
                fail(f"ledger {ledger!r} has no signed checkpoint yet", 1)
            receipt = make_receipt(
                ledger,
                seq,
                entry.hash,
                note,
                LedgerNodes(store, ledger),
                entry=None if no_entry else entry.data,
            )
    except PelayananError as exc:
        fail(f"entry {seq}: cannot prove: {exc}", 1)
    finally:
        store.close()
    write_output(
        receipt.to_json(),
        output,
        force=force,
        db=db,
        done=f"receipt for entry {seq} of ledger {ledger} written to {output}",
    )


@audit_group.command("check-proof")
@click.argument("file", type=click.Path(dir_okay=False))
@trusted_key_option("The ledger's public key PEM (repeatable).")
@keys_option("A key folder whose keyring to trust instead.")
def check_proof_command(file: str, trusted: tuple[str, ...], keys_dir: str | None) -> None:
    """Check a receipt offline: checkpoint signature and inclusion proof (exit 0 / 1)."""
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read receipt {file}: {exc}", 1)
    try:
        keys = load_trusted_keys(trusted, keys_dir, None)
        receipt = Receipt.from_json(text)
        result = check_receipt(receipt, keys)
    except ProofError as exc:
        fail(f"receipt does not check: {exc}", 1)
    except PelayananError as exc:
        fail(f"unverifiable: {exc}", 1)
    click.echo(f"OK {result.summary()}")


# `audit checkpoint`, `audit consistency` and `audit witness ...` live in their own module.
add_witness_commands(audit_group)
