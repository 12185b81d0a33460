"""Helpers shared by the CLI commands: opening stores, finding keys, writing output
files safely, failing cleanly.

Every command that writes a file goes through `output_file` (or `write_output`): the
target must not be the store it reads, its write-ahead log, a key file or key folder, a
symbolic link, or (without ``--force``) an existing file; the bytes go to a temporary
file in the same folder, renamed into place only once complete.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn, TypedDict, TypeVar, Unpack

import click

from pelayanan.audit.keyring import KEYRING_FILE, TrustedKey, load_keyring
from pelayanan.audit.keys import (
    PRIVATE_KEY_FILE,
    PUBLIC_KEY_FILE,
    SigningKey,
    VerifierKey,
    load_key_dir,
    load_public_key,
)
from pelayanan.cli._collector import OLDER_THRESHOLD, YOUNG_THRESHOLD, tune_collector
from pelayanan.cli._main import EXIT_BAD_INPUT, EXIT_FAILED_CHECK, error_line, example
from pelayanan.exceptions import KeyMaterialError, PelayananError
from pelayanan.store import Store, is_url, open_store

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILED_CHECK",
    "DB_HELP",
    "OLDER_THRESHOLD",
    "OutputGuard",
    "YOUNG_THRESHOLD",
    "check_output",
    "choice_option",
    "default_key_dir",
    "db_option",
    "example",
    "fail",
    "fail_all",
    "file_option",
    "force_option",
    "format_option",
    "key_folder",
    "keys_option",
    "load_trusted_keys",
    "open_db",
    "opened_db",
    "output_file",
    "output_option",
    "signing_key_for",
    "trusted_key_option",
    "tune_collector",
    "write_output",
]

_Command = TypeVar("_Command", bound=Callable[..., Any])


def fail(message: str, code: int = EXIT_FAILED_CHECK) -> NoReturn:
    """Print *message* as one ``error: ...`` line on stderr and exit with *code*.

    Use status 2 (`EXIT_BAD_INPUT`) for usage errors and bad input, 1
    (`EXIT_FAILED_CHECK`) for a check that ran and failed.
    """
    click.echo(error_line(message), err=True)
    raise SystemExit(code)


def fail_all(problems: Iterable[str], code: int = EXIT_FAILED_CHECK) -> NoReturn:
    """Print each of *problems* as its own ``error: ...`` line on stderr; exit with *code*."""
    for problem in problems:
        click.echo(error_line(problem), err=True)
    raise SystemExit(code)


#: The one help text of ``--db``, whatever the command.
DB_HELP = "The store: a SQLite file path, a postgresql:// URL or a ledger map file."


def db_option(*, required: bool = True) -> Callable[[_Command], _Command]:
    """Return the ``--db STORE`` option (parameter ``db``): a SQLite path, a PostgreSQL URL
    or a ledger map."""
    return click.option("--db", required=required, metavar="STORE", help=DB_HELP)


def default_key_dir(db: str) -> Path:
    """Return the key folder kept beside a SQLite store: ``PATH.keys/``."""
    return Path(db + ".keys")


def key_folder(keys_dir: str | None, db: str) -> Path:
    """Return the key folder a command uses: ``--keys DIR``, else ``DB.keys/``."""
    return Path(keys_dir) if keys_dir else default_key_dir(db)


# --- options shared by several commands ----------------------------------------------------


def file_option(
    *names: str, help_text: str, repeatable: bool = False
) -> Callable[[_Command], _Command]:
    """Return an option naming a file (not a folder).

    Args:
        names: the option's names and, optionally, its parameter name (as `click.option`).
        help_text: the option's help.
        repeatable: the option may be given several times (its parameter is a tuple).
    """
    return click.option(
        *names, multiple=repeatable, type=click.Path(dir_okay=False), help=help_text
    )


def trusted_key_option(help_text: str) -> Callable[[_Command], _Command]:
    """Return the repeatable ``--trusted-key PEM`` option (parameter ``trusted``)."""
    return file_option("--trusted-key", "trusted", help_text=help_text, repeatable=True)


def keys_option(help_text: str) -> Callable[[_Command], _Command]:
    """Return the ``--keys DIR`` option (parameter ``keys_dir``)."""
    return click.option("--keys", "keys_dir", help=help_text)


def output_option(
    *, required: bool = False, folder: str | None = None
) -> Callable[[_Command], _Command]:
    """Return the ``-o/--output FILE`` option (parameter ``output``).

    Args:
        required: the option must be given.
        folder: when the command may also write into a folder, the help text saying when.
    """
    return click.option(
        "-o",
        "--output",
        required=required,
        type=click.Path(dir_okay=folder is not None),
        help="Write to this file (never onto an input or a key; an existing file only "
        "with --force)."
        + ("" if required else " Default: standard output.")
        + (f" {folder}" if folder else ""),
    )


def choice_option(
    flag: str, param: str, choices: Sequence[str], help_text: str
) -> Callable[[_Command], _Command]:
    """Return an option taking one of *choices*, the first being the default (shown)."""
    return click.option(
        flag,
        param,
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help=help_text,
    )


def format_option(
    *choices: str, help_text: str = "Output format."
) -> Callable[[_Command], _Command]:
    """Return ``--format`` (parameter ``output_format``) taking *choices*, the first the default."""
    return choice_option("--format", "output_format", choices, help_text)


def force_option(func: _Command) -> _Command:
    """Add ``--force``: let ``-o`` replace an existing file that is not an input or a key."""
    return click.option(
        "--force",
        is_flag=True,
        help="Replace an existing output file (never an input, a store or a key).",
    )(func)


# --- opening stores ---------------------------------------------------------------------------


def open_db(db: str, *, read_only: bool = False) -> Store:
    """Open the store at *db* (a SQLite path or a store URL), refusing to create a missing file.

    With *read_only* the store is opened for reading only (nothing is created, migrated
    or repaired).  A missing store, one that needs a migration or one that cannot be
    opened ends the command with one ``error:`` line and exit status 2.
    """
    if db != ":memory:" and not is_url(db) and not Path(db).exists():
        fail(f"{db}: no such database file", EXIT_BAD_INPUT)
    try:
        return open_store(db, read_only=read_only)
    except PelayananError as exc:
        fail(f"cannot open store {db}: {exc}", EXIT_BAD_INPUT)


@contextlib.contextmanager
def opened_db(
    db: str, *, prefix: str = "", code: int = EXIT_FAILED_CHECK, read_only: bool = False
) -> Iterator[Store]:
    """Open the store at *db* for the ``with`` block; close it after.

    A `PelayananError` escaping the block ends the command: one line
    ``error: PREFIX: message`` on stderr and exit status *code*.  With *read_only*, see
    `open_db`.
    """
    store = open_db(db, read_only=read_only)
    try:
        yield store
    except PelayananError as exc:
        fail(f"{prefix}: {exc}" if prefix else str(exc), code)
    finally:
        store.close()


# --- output files ------------------------------------------------------------------------------

_LEDGER_KEY_FILES = (PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, KEYRING_FILE)


def _key_files() -> frozenset[str]:
    """Return the names of the files a key folder holds."""
    # Imported here: the privacy package loads the SOP and calendar machinery, which the
    # commands that only read (audit verify) never need.
    from pelayanan.privacy.vault import MASTER_KEY_FILE  # noqa: PLC0415

    return frozenset({*_LEDGER_KEY_FILES, MASTER_KEY_FILE})


_STORE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def _is_key_folder(folder: Path) -> bool:
    """Return whether *folder* holds keys (a ledger key pair, a keyring, a vault key)."""
    try:
        return folder.is_dir() and any((folder / name).exists() for name in _key_files())
    except OSError:
        return False


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _protected(guard: OutputGuard) -> list[Path]:
    """Return the paths an output must never replace: the store, its logs, the keys, inputs."""
    paths = [Path(i) for i in guard.get("inputs", ())]
    db = guard.get("db")
    keys_dir = guard.get("keys_dir")
    if db is not None and not is_url(db) and db != ":memory:":
        paths.extend(Path(db + suffix) for suffix in _STORE_SUFFIXES)
        paths.append(default_key_dir(db))
    if keys_dir is not None:
        paths.append(Path(keys_dir))
    return paths


def _output_refusal(  # noqa: PLR0911 (a checklist: one return per refusal reason)
    target: Path, *, force: bool, protected: Sequence[Path]
) -> str | None:
    """Return why *target* may not be written, or ``None`` when it may."""
    if target.is_symlink():
        return "is a symbolic link; give the real path"
    if target.is_dir():
        return "is a folder; give a file name"
    resolved = target.resolve()
    for path in protected:
        if _same_file(target, path) or resolved == path.resolve():
            return "is an input of this command (the store, its log or a key); choose another"
        if path.is_dir() and resolved.is_relative_to(path.resolve()):
            return f"lies inside the key folder {path}; choose another folder"
    if target.name in _key_files() or _is_key_folder(resolved.parent):
        return "would write into a key folder; choose another folder"
    if target.exists() and not force:
        return "exists; pass --force to replace it"
    return None


class OutputGuard(TypedDict, total=False):
    """What an output file may not replace, as `check_output`, `output_file` and
    `write_output` take it.

    Attributes:
        force: replace an existing file (never a protected one).
        db: the store the command reads.
        keys_dir: the key folder the command reads (``--keys``).
        inputs: other files the command reads.
    """

    force: bool
    db: str | None
    keys_dir: str | None
    inputs: Sequence[str]


def check_output(output: str, **guard: Unpack[OutputGuard]) -> Path:
    """Return *output* as a path if a command may write it; else end the command (exit 2).

    Commands call it before long work so that a refused output fails fast; `output_file`
    calls it again.  The arguments are those of `output_file`.
    """
    target = Path(output)
    why = _output_refusal(target, force=guard.get("force", False), protected=_protected(guard))
    if why is not None:
        fail(f"-o {output}: {why}", EXIT_BAD_INPUT)
    return target


@contextlib.contextmanager
def output_file(output: str, **guard: Unpack[OutputGuard]) -> Iterator[IO[bytes]]:
    """Yield a binary file whose bytes replace *output* once the block completes.

    The target is refused (exit status 2, one line on stderr) when it is a symbolic link,
    a folder, the store *db* or its ``-wal``/``-shm``/``-journal`` files, a key file or
    key folder (*keys_dir*, ``DB.keys/``, or any folder holding keys), one of *inputs*,
    or an existing file without *force*.  The bytes are written to a temporary file in
    the same folder and renamed onto *output* (`os.replace`), so a failed command leaves
    any earlier file whole.

    Args:
        output: the file to write.
        guard: *force*, *db*, *keys_dir* and *inputs* (`OutputGuard`).
    """
    target = check_output(output, **guard)
    folder = target.parent if str(target.parent) else Path()
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}", EXIT_BAD_INPUT)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        fail(f"cannot write {output}: {exc.strerror}", EXIT_FAILED_CHECK)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_output(
    text: str,
    output: str | None,
    *,
    done: str | None = None,
    **guard: Unpack[OutputGuard],
) -> None:
    """Write *text* (UTF-8) to the file *output* through `output_file`, or to stdout.

    Args:
        text: what to write.
        output: the file, or ``None`` for standard output.
        done: the line printed once written (default ``wrote FILE`` on stderr).
        guard: *force*, *db*, *keys_dir* and *inputs* (`OutputGuard`).
    """
    if output is None:
        click.echo(text, nl=False)
        return
    with output_file(output, **guard) as handle:
        handle.write(text.encode("utf-8"))
    if done is None:
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(done)


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
    folder = key_folder(keys_dir, db)
    signing, _ = load_key_dir(folder)
    if signing is None:
        msg = f"{folder}: holds no ledger private key"
        raise KeyMaterialError(msg)
    return signing
