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
from pelayanan.audit.receipt import Receipt, check_receipt
from pelayanan.audit.verify import Progress, VerificationReport, fault_evidence, fault_line
from pelayanan.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED_CHECK,
    db_option,
    example,
    fail,
    fail_all,
    file_option,
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
from pelayanan.exceptions import KeyMaterialError, PelayananError, VerificationError
from pelayanan.store import read_snapshot, verify_store
from pelayanan.store._witness import pick_ledger, prove_entry
from pelayanan.store.base import Store

__all__ = ["audit_group"]


@click.group("audit", epilog=example("pelayanan audit verify --db pelayanan-demo.db"))
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


@audit_group.command(
    "verify",
    epilog=example(
        "pelayanan audit verify --db pelayanan-demo.db",
        "pelayanan audit verify export.jsonl --trusted-key ledger.pub.pem",
    ),
)
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@db_option(required=False)
@trusted_key_option(
    "A public key PEM to trust at any time (repeatable). Default: the keyring in DB.keys/."
)
@keys_option("A key folder whose keyring (or public keys) to trust.")
@file_option(
    "--since",
    help_text="A checkpoint saved earlier (note, cosigned note, receipt or witness state; "
    "repeatable): the log must still extend it.",
    repeatable=True,
)
@file_option(
    "--witness-key",
    "witness_keys",
    help_text="A witness public key PEM (repeatable): --since checkpoints must carry its "
    "cosignature.",
    repeatable=True,
)
@click.option(
    "--witnesses",
    type=click.IntRange(min=0),
    help="How many --witness-key cosignatures each --since checkpoint needs (default 1).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="Processes that verify (default: 2 on 2+ cores for exports of 4 MiB and stores of "
    "20,000 entries or more; a store uses at most 2).",
)
@click.option(
    "--all-checkpoints",
    is_flag=True,
    help="With --db: check every checkpoint's signature (default: the thinned set an export "
    "keeps; every root is checked either way).",
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
    all_checkpoints: bool,
) -> None:
    """Verify a whole log: sequence, chain, Merkle roots and checkpoint signatures.

    With --db, every checkpoint's root is checked and the signatures of a thinned set
    (the latest, one per 1,000 entries, the ends of each key's run); --all-checkpoints
    checks every signature.  Exit 0 when intact (one summary line per ledger, saying
    which); exit 1 when tampered or unverifiable, the line ``error: entry N: reason``
    naming the first fault.
    """
    if (file is None) == (db is None):
        fail("give either --db STORE or an export FILE.jsonl", EXIT_BAD_INPUT)
    try:
        wkeys = [load_public_key(path) for path in witness_keys]
    except PelayananError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    if (wkeys or witnesses) and not since:
        fail(
            "--witness-key and --witnesses check a saved checkpoint: give --since FILE",
            EXIT_BAD_INPUT,
        )
    if witnesses and not wkeys:
        fail(
            "--witnesses N counts cosignatures by --witness-key PEM: give the keys",
            EXIT_BAD_INPUT,
        )
    saved = read_saved(since, wkeys, (1 if wkeys else 0) if witnesses is None else witnesses)
    # The first stderr line stays the verdict; the reminder follows it.
    beside = not trusted and not keys_dir and not wkeys and db is not None
    try:
        reports, ran = _verify_with(file, db, trusted, keys_dir, saved, (jobs, all_checkpoints))
    except SystemExit as exc:
        # After a verdict, not after a usage error.
        _remind_beside(beside and exc.code == EXIT_FAILED_CHECK)
        raise
    for report in reports:
        click.echo(f"OK {report.summary()}")
    if db is not None:
        click.echo(
            "signatures: every checkpoint's checked"
            if all_checkpoints
            else "signatures: the thinned set checked (the latest, one per 1,000 entries, the "
            "ends of each key's run); every root checked; --all-checkpoints checks every one"
        )
        beside_tables = " (the log checked beside the tables)" if ran > 1 else ""
        click.echo(f"processes: {ran}{beside_tables}")
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


def _verify_log(
    log: Store | str,
    keys: Sequence[VerifierKey | TrustedKey],
    saved: Sequence[SavedCheckpoint],
    progress: Progress | None,
    how: tuple[int | None, bool],
) -> tuple[list[VerificationReport], int]:
    """Verify a store (its log, then its tables against the log) or an export file (once
    per saved checkpoint, once when none is given); fail on a table's disagreement.

    *how* is as `_verify_with` takes it.  Returns the reports and how many processes a
    store's check ran in (1 for an export).
    """
    jobs, all_checkpoints = how
    if isinstance(log, str):
        notes: list[SignedCheckpoint | None] = [item.signed for item in saved] or [None]
        reports: list[VerificationReport] = []
        for note in notes:
            reports = verify_export(log, keys, since=note, progress=progress, jobs=jobs)
        return reports, 1
    result = verify_store(
        log,
        keys,
        since=newest_per_ledger(saved),
        progress=progress,
        all_checkpoints=all_checkpoints,
        jobs=jobs,
    )
    if result.problems:
        fail_all((problem.render() for problem in result.problems), EXIT_FAILED_CHECK)
    check_saved(log, saved)
    return list(result.ledgers), result.jobs


def _verify_with(  # noqa: PLR0917 (the verify command's inputs, passed through)
    file: str | None,
    db: str | None,
    trusted: tuple[str, ...],
    keys_dir: str | None,
    saved: Sequence[SavedCheckpoint],
    how: tuple[int | None, bool],
) -> tuple[list[VerificationReport], int]:
    """Run the verification of `verify_command`; exit 1 with the first fault.

    *how* is ``(jobs, all_checkpoints)``: worker processes, and whether a store's every
    checkpoint signature is checked.  Returns the reports and how many processes a
    store's check ran in (1 for an export).
    """
    store = open_db(db, read_only=True) if db is not None else None
    try:
        keys = load_trusted_keys(trusted, keys_dir, db)
    except KeyMaterialError as exc:
        if store is not None:
            store.close()
        fail(str(exc), EXIT_BAD_INPUT)
    newest = newest_per_ledger(saved)
    try:
        with _progress_bar() as progress:
            log = store if store is not None else file or ""
            reports, ran = _verify_log(log, keys, saved, progress, how)
        known = {r.ledger for r in reports}
        for note in newest:
            if note.checkpoint.ledger not in known:
                fail(
                    f"unverifiable: the log has no ledger {note.checkpoint.ledger!r}",
                    EXIT_FAILED_CHECK,
                )
    except VerificationError as exc:
        # A fork's reason carries the two conflicting checkpoints after its first line:
        # evidence, printed on stdout.
        evidence = fault_evidence(exc)
        if evidence:
            click.echo(evidence)
        fail(fault_line(exc), EXIT_FAILED_CHECK)
    except PelayananError as exc:
        fail(f"unverifiable: {exc}", EXIT_FAILED_CHECK)
    finally:
        if store is not None:
            store.close()
    return reports, ran


@audit_group.command(
    "export", epilog=example("pelayanan audit export --db pelayanan-demo.db -o export.jsonl")
)
@db_option()
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
        opened_db(db, prefix="cannot export", read_only=True) as store,
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
        fail("--format parquet needs pyarrow: pip install 'pelayanan[parquet]'", EXIT_BAD_INPUT)
    options = ReplayOptions(db, trusted, keys_dir, ledger, None, (), None)
    with output_file(output, force=force, db=db, keys_dir=keys_dir, inputs=trusted) as out:
        writer = ParquetWriter(out)
        try:
            log = replay_db(options, [writer])
        finally:
            # Also on refusal: the file is closed here, then dropped unrenamed.
            writer.close()
    click.echo(f"exported {writer.rows} verified entries of ledger {log.ledger} to {output}")


@audit_group.command(
    "prove", epilog=example("pelayanan audit prove --db pelayanan-demo.db --seq 4 -o receipt.json")
)
@db_option()
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
            ledger = pick_ledger(store, ledger)
            receipt = prove_entry(store, ledger, seq, include_entry=not no_entry)
    except PelayananError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    finally:
        store.close()
    write_output(
        receipt.to_json(),
        output,
        force=force,
        db=db,
        done=f"receipt for entry {seq} of ledger {ledger} written to {output}",
    )


@audit_group.command(
    "check-proof",
    epilog=example("pelayanan audit check-proof receipt.json --trusted-key ledger.pub.pem"),
)
@click.argument("file", type=click.Path(dir_okay=False))
@trusted_key_option("The ledger's public key PEM (repeatable).")
@keys_option("A key folder whose keyring to trust instead.")
def check_proof_command(file: str, trusted: tuple[str, ...], keys_dir: str | None) -> None:
    """Check a receipt offline: checkpoint signature and inclusion proof.

    Exit 0 when it checks, 1 when it does not, 2 when the receipt or a key cannot be read.
    """
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read receipt {file}: {getattr(exc, 'strerror', None) or exc}", EXIT_BAD_INPUT)
    try:
        keys = load_trusted_keys(trusted, keys_dir, None)
        receipt = Receipt.from_json(text)
    except PelayananError as exc:
        fail(f"{file}: {exc}", EXIT_BAD_INPUT)
    try:
        result = check_receipt(receipt, keys)
    except PelayananError as exc:
        fail(f"receipt does not check: {exc}", EXIT_FAILED_CHECK)
    click.echo(f"OK {result.summary()}")


# `audit checkpoint`, `audit consistency` and `audit witness ...` live in their own module.
add_witness_commands(audit_group)
