"""Ledgers spread over several stores: the ledger map, the store that follows it, moves.

A ledger map is a small configuration file (TOML, YAML or JSON) with one table,
``ledgers``, mapping a ledger name or an `fnmatch` pattern to a store location (a
``postgresql://`` URL, a SQLite path relative to the map's folder, ``memory://``)::

    [ledgers]
    "kota-bandung" = "postgresql://db-1/pelayanan"
    "kab-*" = "postgresql://db-2/pelayanan"
    "*" = "postgresql://db-1/pelayanan"

An exact name wins over patterns; patterns are tried in file order.  `open_store` on a
map file returns a `MappedStore`, which opens every store the map names and sends each
ledger's reads and appends to its store; reads that span ledgers (requests, due
requests, ledgers) merge the stores' answers, counting a ledger only where the map
places it.  `move_ledger` moves one ledger to another store: export, verify, import,
compare size and root, copy the request rows, switch the map file atomically, and mark
the ledger as moved in the old store so that no desk appends to it there again.
"""

from __future__ import annotations

import contextlib
import fnmatch
import heapq
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Unpack

import attrs

from pelayanan._config import Problems, join, read_config_file, read_mapping, read_text
from pelayanan.audit.entry import StoredEntry
from pelayanan.audit.export import verify_export, write_export
from pelayanan.audit.keyring import TrustedKey
from pelayanan.audit.keys import VerifierKey
from pelayanan.exceptions import (
    ConfigurationError,
    InvalidArgumentError,
    LedgerPlacementError,
    StoreError,
    StoreNotEmptyError,
)
from pelayanan.store.base import (
    AppendOptions,
    AppendResult,
    LedgerHead,
    RequestRecord,
    Store,
)
from pelayanan.store.transfer import copy_verified

__all__ = [
    "MAP_SUFFIXES",
    "LedgerMap",
    "LedgerMove",
    "MappedStore",
    "check_placement",
    "is_ledger_map",
    "move_ledger",
    "moved_meta_key",
    "read_ledger_map",
]

#: The file suffixes that make a store location a ledger map.
MAP_SUFFIXES = (".toml", ".yaml", ".yml", ".json")

_URL_PREFIXES = ("postgresql://", "postgres://", "memory://")


def is_ledger_map(location: str | Path) -> bool:
    """Return whether *location* names a ledger map file (by its suffix)."""
    return str(location).lower().endswith(MAP_SUFFIXES)


def moved_meta_key(ledger: str) -> str:
    """Return the ``meta`` key a store keeps for a ledger moved away from it."""
    return f"ledger_moved:{ledger}"


def _is_pattern(name: str) -> bool:
    return any(c in name for c in "*?[")


@attrs.frozen
class LedgerMap:
    """Ledger names and patterns, each with the store location that holds it.

    Attributes:
        rules: ``(name or pattern, location)`` in file order.
        source: the map file, if read from one (relative SQLite paths are resolved
            against its folder).
    """

    rules: tuple[tuple[str, str], ...]
    source: str | None = None

    def rule_for(self, ledger: str) -> tuple[str, str]:
        """Return the rule placing *ledger*: its exact name, else the first pattern.

        Raises:
            LedgerPlacementError: no rule matches *ledger*.
        """
        for name, location in self.rules:
            if name == ledger:
                return name, location
        for name, location in self.rules:
            if _is_pattern(name) and fnmatch.fnmatchcase(ledger, name):
                return name, location
        where = f"{self.source}: " if self.source else ""
        msg = (
            f"{where}the ledger map places no ledger {ledger!r}: add the name (or a pattern "
            "matching it) under 'ledgers'"
        )
        raise LedgerPlacementError(msg)

    def location_for(self, ledger: str) -> str:
        """Return the store location of *ledger*, as opened (paths resolved).

        Raises:
            LedgerPlacementError: no rule matches *ledger*.
        """
        return self.resolve(self.rule_for(ledger)[1])

    def resolve(self, location: str) -> str:
        """Return *location* with a relative SQLite path taken from the map's folder."""
        if location.startswith(_URL_PREFIXES) or location == ":memory:" or self.source is None:
            return location
        path = Path(location)
        return location if path.is_absolute() else str(Path(self.source).parent / path)

    def locations(self) -> list[str]:
        """Return the distinct store locations, resolved, in file order."""
        return list(dict.fromkeys(self.resolve(location) for _, location in self.rules))

    def places(self, ledger: str, location: str) -> bool:
        """Return whether the map puts *ledger* in the store at (resolved) *location*."""
        try:
            return self.location_for(ledger) == location
        except LedgerPlacementError:
            return False

    def with_ledger_at(self, ledger: str, location: str) -> LedgerMap:
        """Return this map with *ledger* placed by name at *location*."""
        rules = [(name, loc) for name, loc in self.rules if name != ledger]
        return attrs.evolve(self, rules=((ledger, location), *rules))

    def write(self, path: str | Path) -> None:
        """Write the map to *path* in the format its suffix names, atomically.

        The new text goes to a temporary file in the same folder, which then replaces
        *path* in one rename: a reader sees the old map or the new one, never a mix.
        """
        target = Path(path)
        suffix = target.suffix.lower()
        table = dict(self.rules)
        if suffix == ".json":
            text = json.dumps({"ledgers": table}, indent=2, ensure_ascii=False) + "\n"
        elif suffix == ".toml":
            lines = [
                f"{json.dumps(k, ensure_ascii=False)} = {json.dumps(v)}" for k, v in table.items()
            ]
            text = "[ledgers]\n" + "\n".join(lines) + "\n"
        else:
            import yaml  # noqa: PLC0415 - only a YAML map needs it

            text = yaml.safe_dump({"ledgers": table}, sort_keys=False, allow_unicode=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with contextlib.suppress(OSError):
                Path(temporary).chmod(target.stat().st_mode & 0o777)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            Path(temporary).replace(target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def read_ledger_map(path: str | Path) -> LedgerMap:
    """Read a ledger map file (TOML, YAML or JSON).

    Raises:
        ConfigurationError: the file is unreadable or wrong; every problem is reported
            as ``FILE:LINE: key.path: message``.
    """
    data, lines = read_config_file(path)
    problems = Problems(source=str(path), lines=lines)
    top = read_mapping(data, "", problems)
    rules: list[tuple[str, str]] = []
    if top is not None:
        problems.unknown(top, ("ledgers",))
        if "ledgers" not in top:
            problems.add("ledgers", "missing: map ledger names or patterns to store URLs")
        table = read_mapping(top.get("ledgers", {}), "ledgers", problems) or {}
        if "ledgers" in top and not table:
            problems.add("ledgers", "names no ledger: map at least one name or pattern")
        for name, value in table.items():
            where = join("ledgers", name)
            if not isinstance(name, str) or not name.strip():
                problems.add(where, "a ledger name or pattern must be non-empty text")
                continue
            location = read_text(value, where, problems, required=True)
            if location is not None:
                rules.append((name, location))
    problems.check(ConfigurationError)
    return LedgerMap(tuple(rules), str(path))


def check_placement(store: Store, ledger: str) -> None:
    """Refuse *ledger* unless *store* holds it: mapped there and not moved away.

    Raises:
        LedgerPlacementError: a `MappedStore` places *ledger* nowhere, or the store
            that would take its appends records that the ledger moved elsewhere.
    """
    target = store.store_for(ledger) if isinstance(store, MappedStore) else store
    get_meta = getattr(target, "get_meta", None)
    moved = get_meta(moved_meta_key(ledger)) if get_meta is not None else None
    if moved is not None:
        msg = (
            f"ledger {ledger!r} was moved from {target!r} to {moved}: open the ledger map "
            "(or that store) to append to it"
        )
        raise LedgerPlacementError(msg)


def _placed_only(
    records: Iterable[RequestRecord], here: Callable[[str], bool]
) -> Iterator[RequestRecord]:
    """Yield the *records* whose ledger is placed in the store they came from."""
    return (record for record in records if here(record.ledger))


def _opener() -> Callable[..., Store]:
    from pelayanan.store import open_store  # noqa: PLC0415 - the package imports this module

    return open_store


class MappedStore:
    """A `Store` over the stores a `LedgerMap` names, each ledger in its own store.

    Args:
        ledger_map: the map.
        read_only: open every store for reading only.

    Raises:
        StoreError: a store cannot be opened (those already opened are closed).
    """

    def __init__(self, ledger_map: LedgerMap, *, read_only: bool = False) -> None:
        self.map = ledger_map
        self.read_only = read_only
        self.stores: dict[str, Store] = {}
        open_store = _opener()
        try:
            for location in ledger_map.locations():
                self.stores[location] = open_store(location, read_only=read_only)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"MappedStore({self.map.source!r}, stores={len(self.stores)})"

    def store_for(self, ledger: str) -> Store:
        """Return the store the map places *ledger* in.

        Raises:
            LedgerPlacementError: no rule matches *ledger*.
        """
        return self.stores[self.map.location_for(ledger)]

    def _placed(self) -> Iterator[tuple[Store, Callable[[str], bool]]]:
        """Yield each store with a test: does the map place this ledger here?"""
        for location, store in self.stores.items():
            yield store, lambda ledger, at=location: self.map.places(ledger, at)  # type: ignore[misc]

    # -- one ledger: its store answers -----------------------------------------------------

    def append(
        self, ledger: str, body: Mapping[str, Any], **options: Unpack[AppendOptions]
    ) -> AppendResult:
        """Append to *ledger* in the store the map places it in (see `Store.append`)."""
        return self.store_for(ledger).append(ledger, body, **options)

    def bulk_append(self, ledger: str, records: Iterable[bytes | str]) -> LedgerHead:
        """Bulk-append to *ledger* in its store (see `Store.bulk_append`)."""
        return self.store_for(ledger).bulk_append(ledger, records)

    def entries(
        self, ledger: str, start: int = 0, stop: int | None = None
    ) -> Iterator[StoredEntry]:
        """Yield the entries of *ledger* from its store."""
        return self.store_for(ledger).entries(ledger, start, stop)

    def checkpoints(self, ledger: str) -> list[str]:
        """Return the checkpoint notes of *ledger* from its store."""
        return self.store_for(ledger).checkpoints(ledger)

    def iter_checkpoints(
        self, ledger: str, *, min_size: int = 0, max_size: int | None = None
    ) -> Iterator[str]:
        """Yield the checkpoint notes of *ledger* from its store."""
        return self.store_for(ledger).iter_checkpoints(ledger, min_size=min_size, max_size=max_size)

    def latest_checkpoint(self, ledger: str) -> str | None:
        """Return the latest checkpoint note of *ledger* from its store."""
        return self.store_for(ledger).latest_checkpoint(ledger)

    def get_nodes(self, ledger: str, pairs: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return stored Merkle nodes of *ledger* from its store."""
        return self.store_for(ledger).get_nodes(ledger, pairs)

    def add_checkpoint(self, ledger: str, note: str) -> None:
        """Store an extra checkpoint note of *ledger* in its store."""
        self.store_for(ledger).add_checkpoint(ledger, note)

    def head(self, ledger: str) -> LedgerHead:
        """Return the head of *ledger* from its store."""
        return self.store_for(ledger).head(ledger)

    # -- across ledgers: every store answers, for the ledgers placed there -----------------

    def ledgers(self) -> list[str]:
        """Return the ledgers the stores hold where the map places them, sorted."""
        return sorted(
            ledger for store, here in self._placed() for ledger in store.ledgers() if here(ledger)
        )

    def get_request(self, request_id: str) -> RequestRecord | None:
        """Return the request from the store its ledger is placed in, or ``None``."""
        for store, here in self._placed():
            found = store.get_request(request_id)
            if found is not None and here(found.ledger):
                return found
        return None

    def requests(self, *, ledger: str | None = None) -> Iterator[RequestRecord]:
        """Yield the requests (of one *ledger* if given), ordered by creation."""
        if ledger is not None:
            return self.store_for(ledger).requests(ledger=ledger)
        streams = [_placed_only(store.requests(), here) for store, here in self._placed()]
        return heapq.merge(*streams, key=lambda r: (r.created_at, r.id))

    def due_requests(self, now: Any, *, limit: int | None = None) -> list[RequestRecord]:
        """Return the due requests of every store, earliest first."""
        found = [
            r for store, here in self._placed() for r in store.due_requests(now) if here(r.ledger)
        ]
        found.sort(key=lambda r: (r.next_due, r.id))
        return found if limit is None else found[:limit]

    def assignee_counts(self, unit: str) -> dict[str, tuple[int, int]]:
        """Return assignee -> (open, all) requests assigned in *unit*, over every store.

        A store still holding the rows of a ledger moved away does not count them.
        """
        totals: dict[str, tuple[int, int]] = {}

        def add(assignee: str, open_: int, all_: int) -> None:
            before = totals.get(assignee, (0, 0))
            totals[assignee] = (before[0] + open_, before[1] + all_)

        for store, here in self._placed():
            for assignee, (open_, all_) in store.assignee_counts(unit).items():
                add(assignee, open_, all_)
            for ledger in store.ledgers():
                if here(ledger):
                    continue
                for r in store.requests(ledger=ledger):
                    if r.unit == unit and r.assignee is not None:
                        add(r.assignee, -int(not r.closed), -1)
        return {a: counts for a, counts in totals.items() if counts[1] > 0}

    def idempotent_result(self, key: str) -> tuple[str | None, int] | None:
        """Return what idempotency *key* recorded, in whichever store holds it."""
        for store in self.stores.values():
            found = store.idempotent_result(key)
            if found is not None:
                return found
        return None

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Read one consistent state of each store (one snapshot per store)."""
        with contextlib.ExitStack() as stack:
            for store in self.stores.values():
                taking = getattr(store, "snapshot", None)
                if taking is not None:
                    stack.enter_context(taking())
            yield

    def close(self) -> None:
        """Close every store."""
        for store in self.stores.values():
            store.close()


@attrs.frozen
class LedgerMove:
    """What `move_ledger` did.

    Attributes:
        ledger: the ledger moved.
        source: the store it left (the map's location text).
        target: the store it now lives in.
        size: its entries, equal in both stores.
        root: its Merkle root (hex), equal in both stores.
        requests: request rows copied.
    """

    ledger: str
    source: str
    target: str
    size: int
    root: str
    requests: int


def _same_head(a: LedgerHead, b: LedgerHead) -> bool:
    return a.size == b.size and a.range.root() == b.range.root()


def _copy(
    source: Store, target: Store, ledger: str, trusted_keys: Sequence[VerifierKey | TrustedKey]
) -> tuple[LedgerHead, int]:
    """Export *ledger* from *source*, verify it, import it and its request rows into *target*."""
    put_requests = getattr(target, "put_requests", None)
    if put_requests is None:
        msg = f"{target!r} cannot take copied request rows"
        raise StoreError(msg)
    if target.head(ledger).size or next(iter(target.requests(ledger=ledger)), None):
        msg = f"{target!r} already holds ledger {ledger!r}: move only into a store without it"
        raise StoreNotEmptyError(msg)
    head = source.head(ledger)
    with tempfile.TemporaryDirectory(prefix="pelayanan-move-") as folder:
        export = Path(folder) / "ledger.jsonl"
        with export.open("wb") as out:
            write_export(source, out, ledgers=[ledger])
        reports = verify_export(export, trusted_keys)
        copy_verified(target, export, reports)
    copied = target.head(ledger)
    if not _same_head(copied, head):
        msg = (
            f"ledger {ledger!r}: the copy has {copied.size} entries, the source {head.size}; "
            "stop the ledger's writers and move it again"
        )
        raise StoreError(msg)
    return head, int(put_requests(source.requests(ledger=ledger)))


def move_ledger(
    map_path: str | Path,
    ledger: str,
    to: str,
    trusted_keys: Sequence[VerifierKey | TrustedKey],
) -> LedgerMove:
    """Move *ledger* to the store at *to* and switch the ledger map to it.

    Export the ledger from the store the map places it in, verify the export with
    *trusted_keys*, import it into *to* (which must not hold the ledger), check that the
    size and the root are equal in both stores, copy the ledger's request rows, replace
    the map file atomically, and record in the old store that the ledger moved (its
    entries stay there, read-only for desks).  Stop the ledger's writers first.

    Raises:
        ConfigurationError: the map file is wrong.
        LedgerPlacementError: the map places *ledger* nowhere.
        InvalidArgumentError: the ledger is already in *to*.
        StoreNotEmptyError: *to* already holds the ledger.
        VerificationError: the export does not verify.
        StoreError: a store cannot be opened, or the ledger grew during the move.
    """
    ledger_map = read_ledger_map(map_path)
    _, raw_source = ledger_map.rule_for(ledger)
    source_at = ledger_map.resolve(raw_source)
    if ledger_map.resolve(to) == source_at:
        msg = f"ledger {ledger!r} is already in {to}"
        raise InvalidArgumentError(msg)
    open_store = _opener()
    source = open_store(source_at)
    try:
        target = open_store(ledger_map.resolve(to))
        try:
            head, rows = _copy(source, target, ledger, trusted_keys)
        finally:
            target.close()
        ledger_map.with_ledger_at(ledger, to).write(map_path)
        set_meta = getattr(source, "set_meta", None)
        if set_meta is not None:
            set_meta(moved_meta_key(ledger), to)
        if not _same_head(source.head(ledger), head):
            msg = (
                f"ledger {ledger!r} grew in {raw_source} during the move: the entries after "
                f"{head.size} are not in {to}; stop its writers and copy them"
            )
            raise StoreError(msg)
    finally:
        source.close()
    return LedgerMove(ledger, raw_source, to, head.size, head.range.root().hex(), rows)
