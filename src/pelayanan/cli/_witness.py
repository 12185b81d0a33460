"""``pelayanan audit checkpoint|consistency|witness``: checkpoints, proofs and witnesses."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import attrs
import click

from pelayanan.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED_CHECK,
    db_option,
    example,
    fail,
    open_db,
)
from pelayanan.exceptions import PelayananError, ProofError, WitnessError

if TYPE_CHECKING:
    from pelayanan.audit.checkpoint import SignedCheckpoint
    from pelayanan.audit.keys import VerifierKey
    from pelayanan.audit.witness import Witness
    from pelayanan.store.base import Store

__all__ = ["SavedCheckpoint", "add_witness_commands", "check_saved", "read_saved"]


def _read_text(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {what} {path}: {exc}", EXIT_BAD_INPUT)


@click.command(
    "checkpoint", epilog=example("pelayanan audit checkpoint --db pelayanan-demo.db > note.txt")
)
@db_option()
@click.option("--ledger", help="The ledger (needed when the store holds several).")
def checkpoint_command(db: str, ledger: str | None) -> None:
    """Print the latest signed checkpoint note (what a unit publishes or hands to a witness)."""
    from pelayanan.store import latest_checkpoint_note  # noqa: PLC0415 - start-up time

    store = open_db(db, read_only=True)
    try:
        note = latest_checkpoint_note(store, ledger)
    except PelayananError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    finally:
        store.close()
    click.echo(note, nl=False)


@click.command(
    "consistency",
    epilog=example("pelayanan audit consistency --db pelayanan-demo.db --from 100 > proof.txt"),
)
@db_option()
@click.option("--from", "old_size", required=True, type=int, help="The earlier tree size.")
@click.option("--to", "new_size", type=int, help="The later size (default: latest checkpoint).")
@click.option("--ledger", help="The ledger (needed when the store holds several).")
def consistency_command(db: str, old_size: int, new_size: int | None, ledger: str | None) -> None:
    """Print the RFC 9162 consistency proof between two sizes (docs/audit-format.md)."""
    from pelayanan.store import store_consistency_proof  # noqa: PLC0415 - start-up time

    store = open_db(db, read_only=True)
    try:
        proof = store_consistency_proof(store, old_size, new_size, ledger)
    except PelayananError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    finally:
        store.close()
    click.echo(proof.to_text(), nl=False)


@click.group(
    "witness",
    epilog=example("pelayanan audit witness show --state witness-state"),
)
def witness_group() -> None:
    """A witness: remembers each ledger's latest checkpoint and countersigns newer ones."""


@witness_group.command(
    "init",
    epilog=example(
        "pelayanan audit witness init --state witness-state --name ombudsman "
        "--ledger kota --ledger-key ledger-public.pem"
    ),
)
@click.option("--state", required=True, type=click.Path(file_okay=False), help="State folder.")
@click.option("--name", help="The witness name in its cosignature lines (for a new witness).")
@click.option("--ledger", "ledgers", multiple=True, help="A ledger to witness (repeatable).")
@click.option(
    "--ledger-key",
    "ledger_keys",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="That ledger's public key PEM (one per --ledger, in the same order).",
)
@click.option(
    "--replace-key",
    is_flag=True,
    help="After a ledger key rotation: trust the new key, keep the checkpoint remembered.",
)
def init_command(
    state: str,
    name: str | None,
    ledgers: tuple[str, ...],
    ledger_keys: tuple[str, ...],
    replace_key: bool,
) -> None:
    """Create a witness (or add ledgers to one) and print its public key file."""
    from pelayanan.audit.keys import load_public_key  # noqa: PLC0415 - start-up time
    from pelayanan.audit.witness import WITNESS_PUBLIC_KEY_FILE, Witness  # noqa: PLC0415

    if len(ledgers) != len(ledger_keys):
        fail("give one --ledger-key PEM for each --ledger", EXIT_BAD_INPUT)
    try:
        keys = [load_public_key(path) for path in ledger_keys]
    except PelayananError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    try:
        if (Path(state) / "witness.json").exists():
            witness = Witness.open(state)
            if name is not None and name != witness.name:
                fail(f"{state} holds witness {witness.name!r}, not {name!r}", EXIT_BAD_INPUT)
        elif name is None:
            fail("a new witness needs --name NAME", EXIT_BAD_INPUT)
        else:
            witness = Witness.create(state, name)
        for ledger, key in zip(ledgers, keys, strict=True):
            witness.trust_ledger(ledger, key, replace=replace_key)
    except PelayananError as exc:
        fail(str(exc), EXIT_FAILED_CHECK)
    click.echo(f"witness {witness.name}: public key {Path(state) / WITNESS_PUBLIC_KEY_FILE}")
    click.echo(f"ledgers: {', '.join(witness.ledgers) or '(none yet)'}")


@witness_group.command(
    "cosign",
    epilog=example("pelayanan audit witness cosign --state witness-state --db pelayanan-demo.db"),
)
@click.option("--state", required=True, type=click.Path(file_okay=False), help="State folder.")
@click.option("--checkpoint", type=click.Path(dir_okay=False), help="A signed checkpoint note.")
@click.option("--proof", type=click.Path(dir_okay=False), help="Its consistency proof file.")
@db_option(required=False)
@click.option("--ledger", help="The ledger (with --db, when the store holds several).")
def cosign_command(
    state: str, checkpoint: str | None, proof: str | None, db: str | None, ledger: str | None
) -> None:
    """Check a checkpoint against the one remembered and print it countersigned.

    The checkpoint and its proof come from the files given, or from the store --db.

    Exit 0 cosigned; 1 refused (rollback, fork, backdated, bad signature, unknown
    ledger), the reason on stderr; 2 bad input.
    """
    from pelayanan.audit.witness import Witness  # noqa: PLC0415 - start-up time

    if (checkpoint is None) == (db is None):
        fail("give either --checkpoint FILE [--proof FILE] or --db STORE", EXIT_BAD_INPUT)
    try:
        witness = Witness.open(state)
    except PelayananError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    if db is not None:
        note, hashes = _from_store(witness, db, ledger)
    else:
        assert checkpoint is not None
        note, hashes = _from_files(witness, checkpoint, proof)
    try:
        cosigned = witness.cosign(note, hashes, now=dt.datetime.now(dt.UTC))
    except WitnessError as exc:
        fail(str(exc), EXIT_FAILED_CHECK)
    click.echo(cosigned, nl=False)


def _from_files(witness: Witness, checkpoint: str, proof: str | None) -> tuple[str, list[bytes]]:
    """Return the note and the proof hashes given as files; exit 2 when they do not fit."""
    from pelayanan.audit.witness import ConsistencyProof, split_cosigned  # noqa: PLC0415

    note = _read_text(checkpoint, "checkpoint")
    try:
        signed, _ = split_cosigned(note)
    except PelayananError as exc:
        fail(f"{checkpoint}: {exc}", EXIT_BAD_INPUT)
    cp = signed.checkpoint
    try:
        seen = witness.latest(cp.ledger)
    except WitnessError as exc:
        fail(str(exc), EXIT_FAILED_CHECK)
    old = 0 if seen is None else seen.checkpoint.size
    if proof is None or (seen is not None and cp.size <= old):
        # Same size needs no proof; a smaller one is refused as a rollback.
        if seen is not None and old < cp.size:
            fail(
                f"give --proof: the witness saw ledger {cp.ledger!r} at size "
                f"{seen.checkpoint.size}",
                2,
            )
        return note, []
    try:
        parsed = ConsistencyProof.parse(_read_text(proof, "proof"))
    except ProofError as exc:
        fail(f"{proof}: {exc}", EXIT_BAD_INPUT)
    if (parsed.ledger, parsed.old_size, parsed.new_size) != (cp.ledger, old, cp.size):
        fail(
            f"{proof}: the proof is for ledger {parsed.ledger!r} from size "
            f"{parsed.old_size} to {parsed.new_size}; the witness needs ledger {cp.ledger!r} "
            f"from {old} to {cp.size}",
            EXIT_BAD_INPUT,
        )
    return note, list(parsed.hashes)


def _from_store(witness: Witness, db: str, ledger: str | None) -> tuple[str, list[bytes]]:
    """Return the store's latest note and the proof from the size the witness saw."""
    from pelayanan.audit.checkpoint import SignedCheckpoint  # noqa: PLC0415 - start-up time
    from pelayanan.store import (  # noqa: PLC0415
        latest_checkpoint_note,
        read_snapshot,
        store_consistency_proof,
    )

    store = open_db(db, read_only=True)
    try:
        with read_snapshot(store):
            note = latest_checkpoint_note(store, ledger)
            cp = SignedCheckpoint.parse(note).checkpoint
            seen = witness.latest(cp.ledger)
            old = 0 if seen is None else seen.checkpoint.size
            if old > cp.size:
                return note, []  # the witness refuses it as a rollback
            proof = store_consistency_proof(store, old, cp.size, cp.ledger)
    except WitnessError as exc:
        fail(str(exc), EXIT_FAILED_CHECK)
    except PelayananError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    finally:
        store.close()
    return note, list(proof.hashes)


@witness_group.command("show", epilog=example("pelayanan audit witness show --state witness-state"))
@click.option("--state", required=True, type=click.Path(file_okay=False), help="State folder.")
def show_command(state: str) -> None:
    """Print the witness's name, public key and the latest checkpoint seen per ledger."""
    from pelayanan.audit.witness import Witness  # noqa: PLC0415 - start-up time

    try:
        witness = Witness.open(state)
    except PelayananError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    click.echo(f"witness {witness.name} key id {witness.key_id.hex()}")
    for ledger in witness.ledgers:
        seen = witness.latest(ledger)
        if seen is None:
            click.echo(f"ledger {ledger}: no checkpoint seen yet")
            continue
        cp = seen.checkpoint
        click.echo(
            f"ledger {ledger}: size {cp.size}, root {cp.root.hex()[:16]}..., "
            f"time {cp.time.isoformat()}"
        )


def add_witness_commands(group: click.Group) -> None:
    """Add ``checkpoint``, ``consistency`` and the ``witness`` group to the audit *group*."""
    group.add_command(checkpoint_command)
    group.add_command(consistency_command)
    group.add_command(witness_group)


@attrs.frozen
class SavedCheckpoint:
    """A checkpoint an auditor saved, and the witnesses whose cosignature on it checked."""

    signed: SignedCheckpoint
    witnesses: tuple[str, ...]
    source: str


def _notes_in(path: str) -> list[str]:
    """Return the checkpoint notes a ``--since`` file holds; exit 2 when it holds none."""
    from pelayanan.audit.receipt import RECEIPT_FORMAT, Receipt  # noqa: PLC0415
    from pelayanan.audit.witness import witness_state_notes  # noqa: PLC0415

    text = _read_text(path, "checkpoint")
    if not text.lstrip().startswith("{"):
        return [text]
    try:
        doc = json.loads(text)
        if isinstance(doc, dict) and doc.get("format") == RECEIPT_FORMAT:
            return [Receipt.from_json(text).checkpoint]
    except (ValueError, PelayananError) as exc:
        fail(f"cannot read checkpoint {path}: {exc}", EXIT_BAD_INPUT)
    notes = witness_state_notes(doc) if isinstance(doc, dict) else []
    if not notes:
        fail(
            f"{path}: neither a checkpoint, a receipt nor a witness state with one", EXIT_BAD_INPUT
        )
    return notes


def read_saved(
    paths: Sequence[str], witness_keys: Sequence[VerifierKey], needed: int
) -> list[SavedCheckpoint]:
    """Read the ``--since`` files; exit 1 when one lacks *needed* witness cosignatures.

    Args:
        paths: checkpoint notes, cosigned notes, receipts or witness state files.
        witness_keys: the witness public keys whose cosignatures count.
        needed: how many of them must have cosigned each saved checkpoint.
    """
    from pelayanan.audit.witness import count_cosignatures  # noqa: PLC0415

    saved: list[SavedCheckpoint] = []
    for path in paths:
        for note in _notes_in(path):
            try:
                signed, names = count_cosignatures(note, witness_keys)
            except PelayananError as exc:
                fail(f"cannot read checkpoint {path}: {exc}", EXIT_BAD_INPUT)
            if len(names) < needed:
                cp = signed.checkpoint
                fail(
                    f"unverifiable: the saved checkpoint of ledger {cp.ledger} at size {cp.size} "
                    f"({path}) carries {len(names)} valid cosignatures by the given witness "
                    f"keys; {needed} needed",
                    EXIT_FAILED_CHECK,
                )
            saved.append(SavedCheckpoint(signed, tuple(names), path))
    return saved


def newest_per_ledger(saved: Sequence[SavedCheckpoint]) -> list[SignedCheckpoint]:
    """Return the largest saved checkpoint of each ledger; exit 1 on two roots at one size."""
    best: dict[str, SignedCheckpoint] = {}
    for item in saved:
        cp = item.signed.checkpoint
        other = best.get(cp.ledger)
        if (
            other is not None
            and other.checkpoint.size == cp.size
            and other.checkpoint.root != cp.root
        ):
            _fork(other, item.signed, "two signed checkpoints with different roots at one size")
        if other is None or other.checkpoint.size < cp.size:
            best[cp.ledger] = item.signed
    return list(best.values())


def _fork(old: SignedCheckpoint, new: SignedCheckpoint, what: str) -> NoReturn:
    """Print the two conflicting checkpoints (the evidence) on stdout; fail with exit 1."""
    click.echo(old.to_text(), nl=False)
    click.echo(new.to_text(), nl=False)
    fail(f"fork: ledger {new.checkpoint.ledger}: {what}", EXIT_FAILED_CHECK)


def check_saved(store: Store, saved: Sequence[SavedCheckpoint]) -> None:
    """Check each smaller saved checkpoint against the newest of its ledger; exit 1 on a fork.

    The consistency proof comes from the store's Merkle nodes and is checked against the
    two signed roots, so a tampered store cannot make it pass.
    """
    from pelayanan.audit.merkle import verify_consistency  # noqa: PLC0415
    from pelayanan.store import store_consistency_proof  # noqa: PLC0415

    newest = {s.checkpoint.ledger: s for s in newest_per_ledger(saved)}
    for item in saved:
        old, new = item.signed.checkpoint, newest[item.signed.checkpoint.ledger]
        if old.size >= new.checkpoint.size:
            continue
        try:
            proof = store_consistency_proof(store, old.size, new.checkpoint.size, old.ledger)
            verify_consistency(
                old.size, new.checkpoint.size, old.root, new.checkpoint.root, proof.hashes
            )
        except PelayananError as exc:
            _fork(item.signed, new, f"the saved checkpoints are not consistent: {exc}")
