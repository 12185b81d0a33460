"""Helpers shared by the CLI commands: opening stores, finding keys, failing cleanly."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import NoReturn

import click

from pelayanan.audit.keyring import TrustedKey, load_keyring
from pelayanan.audit.keys import SigningKey, VerifierKey, load_key_dir, load_public_key
from pelayanan.exceptions import KeyMaterialError, PelayananError
from pelayanan.store import Store, is_url, open_store

__all__ = [
    "default_key_dir",
    "fail",
    "load_trusted_keys",
    "open_db",
    "signing_key_for",
    "tune_collector",
]

#: First-generation threshold of the garbage collector while a command runs (CPython's
#: default is 700 allocations).
YOUNG_THRESHOLD = 100_000
#: Second- and third-generation thresholds (CPython's default is 10 and 10).
OLDER_THRESHOLD = 20


def tune_collector() -> None:
    """Let the garbage collector run less often, for commands that replay whole logs.

    A report keeps a record per request and per clock while it replays the log, and each
    full collection walks all of them: with CPython's default thresholds, the reports
    benchmark over 300,000 entries took 24.5 s of CPU time instead of 17.3 s
    (docs/performance.md).  The commands are short-lived batch
    jobs that create few reference cycles, so they trade a few megabytes of uncollected
    young objects for that time (as mypy does).  Only the command line calls this: an
    application embedding the library keeps its own settings.
    """
    young, older, oldest = gc.get_threshold()
    if young == 0:
        return  # collection is switched off: leave it so
    gc.set_threshold(
        max(young, YOUNG_THRESHOLD), max(older, OLDER_THRESHOLD), max(oldest, OLDER_THRESHOLD)
    )


def fail(message: str, code: int = 1) -> NoReturn:
    """Print *message* as one line on stderr and exit with *code*."""
    click.echo(message, err=True)
    raise SystemExit(code)


def default_key_dir(db: str) -> Path:
    """Return the key folder kept beside a SQLite store: ``PATH.keys/``."""
    return Path(db + ".keys")


def open_db(db: str) -> Store:
    """Open the store at *db* (a SQLite path or a store URL), refusing to create a missing file."""
    if db != ":memory:" and not is_url(db) and not Path(db).exists():
        fail(f"{db}: no such database file", 1)
    try:
        return open_store(db)
    except PelayananError as exc:
        fail(f"cannot open store: {exc}", 1)


def load_trusted_keys(
    trusted: tuple[str, ...], keys_dir: str | None, db: str | None
) -> list[VerifierKey | TrustedKey]:
    """Return the keys to trust: ``--trusted-key`` files, else the key folder's keys.

    A bare PEM is trusted at any time; a key folder with a ``keyring.json`` contributes
    its keys with their validity periods and revocations.

    Raises:
        KeyMaterialError: a key file is invalid or no key can be found.
    """
    if trusted:
        return [load_public_key(path) for path in trusted]
    folder = Path(keys_dir) if keys_dir else (default_key_dir(db) if db else None)
    if folder is None or not folder.is_dir():
        msg = "no trusted key: pass --trusted-key PEM (or --keys DIR)"
        raise KeyMaterialError(msg)
    keyring = load_keyring(folder)
    if keyring is not None:
        if not keyring.keys:
            msg = f"{folder}: the keyring lists no key; pass --trusted-key PEM"
            raise KeyMaterialError(msg)
        return list(keyring.keys)
    _, publics = load_key_dir(folder)
    if not publics:
        msg = f"{folder}: holds no public key; pass --trusted-key PEM"
        raise KeyMaterialError(msg)
    return list(publics)


def signing_key_for(keys_dir: str | None, db: str) -> SigningKey:
    """Return the ledger private key from ``--keys`` or the store's key folder.

    Raises:
        KeyMaterialError: no private key is there.
    """
    folder = Path(keys_dir) if keys_dir else default_key_dir(db)
    signing, _ = load_key_dir(folder)
    if signing is None:
        msg = f"{folder}: holds no ledger private key"
        raise KeyMaterialError(msg)
    return signing
