"""``pelayanan privacy``: answer data-subject requests (access, erasure), holds, open data.

Every command given ``--db PATH`` finds the ledger key and the vault master key in
``PATH.keys/`` (``--keys DIR`` overrides).  A store, key or SOP that cannot be opened
exits 2; an action the desk refuses exits 1.  Reveals, erasures, holds and their refusals
are recorded in the audit log under the ``--actor`` id, who acts as data protection
officer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from pelayanan.access import Actor
from pelayanan.audit.keyring import KeyringSigner
from pelayanan.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED_CHECK,
    db_option,
    example,
    fail,
    file_option,
    key_folder,
    keys_option,
    open_db,
    opened_db,
)
from pelayanan.cli._demo import sop_path
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import (
    ErasureRefusedError,
    InvalidArgumentError,
    PelayananError,
    SubjectErasedError,
    UnknownSubjectError,
)
from pelayanan.privacy import (
    DATA_PROTECTION_OFFICER,
    MASTER_KEY_FILE,
    PrivacySettings,
    RetentionSchedule,
    Vault,
    VaultStore,
    load_master_key,
    publish_statistics,
)
from pelayanan.sop import SOP, load_sop
from pelayanan.store import Store, read_snapshot

__all__ = ["privacy_group"]

_db_option = db_option()
_keys_option = keys_option(
    "The key folder (ledger key, vault master key). Default: STORE.keys/ beside a SQLite --db."
)
_Command = TypeVar("_Command", bound=Callable[..., Any])

_subject_option = click.option("--subject", required=True, help="The data-subject id.")


_actor_option = click.option(
    "--actor",
    default="data-protection-officer",
    show_default=True,
    help="Your officer id, recorded in the audit log as who acted.",
)


def _recording_options(what: str) -> Callable[[_Command], _Command]:
    """Add the options of a command that records *what*: key folder, actor, ledger."""
    ledger_option = click.option(
        "--ledger", help=f"The ledger the {what} is recorded in (default: the only one)."
    )

    def add(command: _Command) -> _Command:
        return _keys_option(_actor_option(ledger_option(command)))

    return add


def _parse_retention(values: tuple[str, ...]) -> RetentionSchedule:
    classes: dict[str, str] = {}
    for value in values:
        name, sep, period = value.partition("=")
        if not sep or not name.strip():
            fail(
                f"--retention {value!r}: write CLASS=PERIOD, e.g. arsip-pengaduan=P5Y",
                EXIT_BAD_INPUT,
            )
        classes[name.strip()] = period.strip()
    return RetentionSchedule(classes)


@contextmanager
def _desk(
    db: str,
    keys_dir: str | None,
    *,
    sop_files: tuple[str, ...] = (),
    retention: tuple[str, ...] = (),
    ledger: str | None = None,
) -> Iterator[ServiceDesk]:
    schedule = _parse_retention(retention)
    store = open_db(db)
    try:
        desk = _open_desk(store, db, keys_dir, sop_files, schedule, ledger)
    except PelayananError as exc:
        store.close()
        fail(str(exc), EXIT_BAD_INPUT)
    try:
        yield desk
    except PelayananError as exc:
        fail(str(exc), EXIT_FAILED_CHECK)
    finally:
        store.close()


def _open_desk(  # noqa: PLR0917 (the options of `_desk`, passed through)
    store: Store,
    db: str,
    keys_dir: str | None,
    sop_files: tuple[str, ...],
    schedule: RetentionSchedule,
    ledger: str | None,
) -> ServiceDesk:
    """Return the desk `_desk` yields: the store's vault unlocked, the SOPs loaded."""
    folder = key_folder(keys_dir, db)
    vault = Vault(load_master_key(folder / MASTER_KEY_FILE))
    vault.bind(store)  # refuses a master key the store was not sealed under
    settings = PrivacySettings(vault=vault, retention=schedule)
    files = [Path(f) for f in sop_files] or [sop_path("pengaduan")]
    sops: list[SOP] = [load_sop(f) for f in files]
    if ledger is None:
        ledgers = store.ledgers()
        if len(ledgers) > 1:
            msg = f"{db} holds several ledgers ({', '.join(ledgers)}): pass --ledger"
            raise InvalidArgumentError(msg)
        ledger = ledgers[0] if ledgers else "default"
    return ServiceDesk(
        store,
        sops=sops,
        signing_key=KeyringSigner.from_folder(folder),
        ledger=ledger,
        privacy=settings,
    )


def _officer(actor_id: str) -> Actor:
    return Actor(actor_id, {DATA_PROTECTION_OFFICER})


def _vault_store(store: Store, db: str) -> VaultStore:
    if not isinstance(store, VaultStore):
        fail(f"{db}: this store has no key vault", EXIT_BAD_INPUT)
    return store


@click.group("privacy", epilog=example("pelayanan privacy subjects --db pelayanan-demo.db"))
def privacy_group() -> None:
    """Answer data-subject requests: list, show (access), erase; legal holds; open data."""


@privacy_group.command(
    "subjects", epilog=example("pelayanan privacy subjects --db pelayanan-demo.db")
)
@_db_option
def subjects_command(db: str) -> None:
    """List the data-subject ids, one per line (erased subjects included)."""
    with opened_db(db, read_only=True) as store:
        for subject in _vault_store(store, db).vault_subjects():
            click.echo(subject)


@privacy_group.command(
    "show",
    epilog=example(
        "pelayanan privacy show --db pelayanan-demo.db --subject warga-001 --purpose SAR-2026-07"
    ),
)
@_db_option
@_subject_option
@click.option("--purpose", required=True, help="Why (e.g. the access request reference).")
@_recording_options("reveal")
def show_command(
    *, db: str, subject: str, purpose: str, keys_dir: str | None, actor: str, ledger: str | None
) -> None:
    """Print a subject's personal data as JSON (the right of access); recorded as a reveal.

    Exit 0 shown; 1 when the subject is erased or unknown.
    """
    with _desk(db, keys_dir, ledger=ledger) as desk:
        try:
            data = desk.subject_access(subject, actor=_officer(actor), purpose=purpose).subject_data
        except (SubjectErasedError, UnknownSubjectError) as exc:
            fail(str(exc), EXIT_FAILED_CHECK)
    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


@privacy_group.command(
    "erase",
    epilog=example(
        "pelayanan privacy erase --db pelayanan-demo.db --subject warga-001 --reason ERA-2026-03"
    ),
)
@_db_option
@_subject_option
@click.option("--reason", required=True, help="Why (e.g. the erasure request reference).")
@_recording_options("erasure")
@file_option(
    "--sop",
    "sop_files",
    help_text="SOP files of the requests (repeatable). Default: the bundled example SOPs.",
    repeatable=True,
)
@click.option(
    "--retention",
    multiple=True,
    metavar="CLASS=PERIOD",
    help="A retention class and its ISO 8601 period, e.g. arsip-pengaduan=P5Y (repeatable).",
)
def erase_command(
    *,
    db: str,
    subject: str,
    reason: str,
    keys_dir: str | None,
    actor: str,
    ledger: str | None,
    sop_files: tuple[str, ...],
    retention: tuple[str, ...],
) -> None:
    """Erase a subject (destroy their key); recorded.

    Exit 0 erased; 1 refused (legal hold, retention: the reason on stderr), erased
    already, or unknown.
    """
    with _desk(db, keys_dir, sop_files=sop_files, retention=retention, ledger=ledger) as desk:
        try:
            result = desk.erase_subject(subject, actor=_officer(actor), reason=reason).erasure
        except ErasureRefusedError as exc:
            fail(f"erasure refused ({exc.rule}): {exc}", EXIT_FAILED_CHECK)
        except (SubjectErasedError, UnknownSubjectError) as exc:
            fail(str(exc), EXIT_FAILED_CHECK)
    assert result is not None  # a committed erasure always carries its result
    click.echo(
        f"erased {result.subject}: key destroyed, {len(result.requests)} request(s) affected; "
        f"recorded as entry {result.seq}"
    )
    if result.overwritten is True:
        click.echo("old pages overwritten: yes")
    elif result.overwritten is False:
        click.echo(f"old pages overwritten: not yet: {result.held_by}")


@privacy_group.command(
    "hold",
    epilog=example(
        "pelayanan privacy hold --db pelayanan-demo.db --subject warga-001 --reason PN-12/2026"
    ),
)
@_db_option
@click.option("--subject", help="Hold this data subject.")
@click.option("--request", "request_id", help="Hold this request.")
@click.option("--reason", required=True, help="Why (e.g. the case reference).")
@_recording_options("hold")
def hold_command(
    *,
    db: str,
    subject: str | None,
    request_id: str | None,
    reason: str,
    keys_dir: str | None,
    actor: str,
    ledger: str | None,
) -> None:
    """Place a legal hold on a subject or a request (erasure is refused while it holds)."""
    with _desk(db, keys_dir, ledger=ledger) as desk:
        hold = desk.place_legal_hold(
            actor=_officer(actor), reason=reason, subject=subject, request=request_id
        ).hold
    assert hold is not None  # a placed hold always comes back with its result
    click.echo(hold.id)


@privacy_group.command(
    "release",
    epilog=example(
        "pelayanan privacy release --db pelayanan-demo.db --hold HOLD-ID --reason 'case closed'"
    ),
)
@_db_option
@click.option("--hold", "hold_id", required=True, help="The hold id.")
@click.option("--reason", required=True, help="Why the hold ends.")
@_recording_options("release")
def release_command(
    *, db: str, hold_id: str, reason: str, keys_dir: str | None, actor: str, ledger: str | None
) -> None:
    """Release a legal hold."""
    with _desk(db, keys_dir, ledger=ledger) as desk:
        desk.release_legal_hold(hold_id, actor=_officer(actor), reason=reason)
    click.echo(f"released {hold_id}")


@privacy_group.command(
    "publish", epilog=example("pelayanan privacy publish --db pelayanan-demo.db --min-count 5")
)
@_db_option
@click.option("--tz", default="Asia/Jakarta", show_default=True, help="Zone of the months.")
@click.option("--min-count", type=click.IntRange(min=1), help="Suppress smaller cells.")
def publish_command(db: str, tz: str, min_count: int | None) -> None:
    """Print open data: request counts per SOP, month and state, with no personal data."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        fail(f"--tz {tz!r}: unknown time zone (e.g. Asia/Jakarta)", EXIT_BAD_INPUT)
    with opened_db(db, read_only=True) as store, read_snapshot(store):
        published = publish_statistics(store.requests(), tz=zone, min_count=min_count)
    click.echo(json.dumps(published, indent=2, sort_keys=True))
