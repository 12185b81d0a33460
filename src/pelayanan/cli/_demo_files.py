"""The demo's files around its database: the parent-folder check, the lock that keeps two
demos off one path, and the example SOPs copied beside the database.

Lock: ``PATH.lock`` is created with ``O_EXCL`` before the demo touches ``PATH`` and removed
when it ends (also on failure), so a second demo on the same path refuses cleanly.  The
file holds the process id of the demo that made it; a lock whose process no longer runs
on this machine (the demo was killed) is stale and is taken over.  A lock left by a demo
on another machine sharing the folder cannot be checked: delete ``PATH.lock`` by hand once
no demo is running.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from pelayanan.cli._common import EXIT_BAD_INPUT, fail

__all__ = [
    "DEMO_DIRECTORY",
    "checked_db_path",
    "copy_example_sops",
    "demo_lock",
    "directory_path",
    "ledger_map_path",
    "lock_path",
    "moved_store_path",
    "write_demo_directory",
    "write_ledger_map",
]

#: The demo's officers (fictional names): NIP -> (name, unit).  Names never enter the
#: log; the demo writes them to ``PATH.directory.yaml`` for ``report sla --directory``.
DEMO_DIRECTORY: dict[str, tuple[str, str]] = {
    "198703122010012001": ("Rina Marlina", "unit-pengaduan"),
    "199001052015031002": ("Dedi Kurniawan", "unit-pengaduan"),
    "198811202012122003": ("Sri Wahyuni", "unit-pengaduan"),
    "197504081998031004": ("Bambang Suryadi", "unit-pengaduan"),
    "199203302019031005": ("Agus Setiawan", "dinas-pu"),
    "199106112018031008": ("Yuli Astuti", "dinas-pu"),
    "199405172020122006": ("Putri Handayani", "dinas-lh"),
    "199512032021122009": ("Fajar Nugroho", "dinas-lh"),
    "198912012014031007": ("dr. Maya Sari", "dinas-kesehatan"),
    "199308082019032010": ("Hendra Wijaya", "dinas-kesehatan"),
    "199106062017032008": ("Lestari Dewi", "ppid"),
}
#: The demo's units and their names.
DEMO_UNITS = {
    "unit-pengaduan": "Unit Pengaduan Masyarakat",
    "dinas-pu": "Dinas Pekerjaan Umum",
    "dinas-lh": "Dinas Lingkungan Hidup",
    "dinas-kesehatan": "Dinas Kesehatan",
    "disdukcapil": "Dinas Kependudukan dan Pencatatan Sipil",
    "inspektorat": "Inspektorat",
    "ppid": "PPID",
}


def checked_db_path(db: str) -> Path:
    """Return *db* as a path, refusing (exit 2) one whose folder does not exist.

    Args:
        db: the ``--db`` value.

    Returns:
        The path.
    """
    path = Path(db)
    if not path.parent.is_dir():
        fail(
            f"{path.parent} does not exist; create the folder first or choose another --db",
            EXIT_BAD_INPUT,
        )
    return path


def lock_path(db: Path) -> Path:
    """Return the lock file of the demo database *db*: ``PATH.lock``."""
    return Path(f"{db}.lock")


def _running(pid: int) -> bool:
    """Return whether process *pid* exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by another user
    return True


def _take(lock: Path) -> bool:
    """Create *lock* exclusively with this process's id; return False if it exists."""
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(f"{os.getpid()}\n")
    return True


def _stale(lock: Path) -> bool:
    """Return whether *lock* names a process that no longer runs on this machine."""
    try:
        text = lock.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return False
    return text.isdigit() and int(text) != os.getpid() and not _running(int(text))


@contextlib.contextmanager
def demo_lock(db: Path) -> Iterator[Path]:
    """Hold ``PATH.lock`` while a demo writes *db*; refuse (exit 2) if another demo holds it.

    Args:
        db: the demo database.

    Yields:
        The lock file.
    """
    lock = lock_path(db)
    if not _take(lock):
        if _stale(lock):
            lock.unlink(missing_ok=True)
        if not _take(lock):
            fail(
                f"another demo is writing {db} (lock file {lock}); wait for it to "
                f"finish, or delete {lock} if no demo is running",
                EXIT_BAD_INPUT,
            )
    try:
        yield lock
    finally:
        lock.unlink(missing_ok=True)


def copy_example_sops(db: Path, sop: Path, scenario: Path) -> tuple[str, str]:
    """Copy the demo's SOP and scenario into ``PATH.sop/`` beside *db*.

    The commands the demo suggests then name files the user can read and edit, never a
    file inside the installed package.

    Args:
        db: the demo database.
        sop: the bundled SOP file.
        scenario: the bundled scenario file.

    Returns:
        The copied SOP and scenario, as paths to type (relative to the working directory
        when below it).
    """
    folder = Path(f"{db}.sop")
    (folder / "scenarios").mkdir(parents=True, exist_ok=True)
    sop_copy = folder / sop.name
    scenario_copy = folder / "scenarios" / scenario.name
    shutil.copyfile(sop, sop_copy)
    shutil.copyfile(scenario, scenario_copy)
    return _shown(sop_copy), _shown(scenario_copy)


def _shown(path: Path) -> str:
    """Return *path* relative to the working directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def directory_path(db: Path) -> Path:
    """Return the demo's officer directory file beside *db* (``PATH.directory.yaml``)."""
    return Path(f"{db}.directory.yaml")


def write_demo_directory(db: Path) -> str:
    """Write the demo's officer directory beside *db*; return its path as shown to the user."""
    import yaml  # noqa: PLC0415  (only the demo writes one)

    document = {
        "officers": {
            nip: {"name": name, "unit": unit} for nip, (name, unit) in DEMO_DIRECTORY.items()
        },
        "units": DEMO_UNITS,
    }
    path = directory_path(db)
    header = "# The demo's officers (fictional), for: pelayanan report sla --directory FILE\n"
    path.write_text(header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "utf-8")
    return _shown(path)


def ledger_map_path(db: Path) -> Path:
    """Return the demo's ledger map beside *db* (``PATH.ledgers.toml``)."""
    return Path(f"{db}.ledgers.toml")


def moved_store_path(db: Path) -> Path:
    """Return the store the demo suggests moving its ledger to (``PATH.moved.db``)."""
    return Path(f"{db}.moved.db")


def write_ledger_map(db: Path) -> str:
    """Write a ledger map placing every ledger in *db*; return its path as shown to the user.

    ``pelayanan store move --map`` then moves the demo's ledger to another store and
    rewrites the map.  A SQLite path in a map is relative to the map's folder.
    """
    path = ledger_map_path(db)
    path.write_text(
        "# Every ledger of the demo in its database, for: pelayanan store move --map FILE\n"
        f'[ledgers]\n"*" = "{db.name}"\n',
        "utf-8",
    )
    return _shown(path)
