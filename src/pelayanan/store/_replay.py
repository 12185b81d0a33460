"""Replay the working tables from the audit log: what each request row must hold.

The desk commits every change of a request row together with the entry that records
it.  The entry kinds that change a row, and how (read from `pelayanan.desk` and
`pelayanan.privacy`):

* ``submit``: a new row: state ``to``, version 1, the SOP pin, actors ``{"submit":
  [actor]}``, the unit it was routed to, the assignee chosen, the SLA clocks started;
* ``action``: state ``to``, the actor (and a Plt/Plh's principal) recorded under the
  action, SLA clock changes;
* ``migration``: state ``to`` and the new SOP pin;
* ``sla``: the event's key marked fired on its clock; an escalation's ``reassign``
  moves the request (assignee cleared);
* ``assignment``: the assignee chosen;
* ``disposition``: a group of disposisi issued, the request moved to the ``holder``;
* ``disposition_answer`` / ``bukan_wewenang``: a disposisi closed, the request moved
  to ``returned_to``.

Every one of them adds 1 to the row's version.  What the log does not state (the SOP's
own unit when nothing routed the request, whether a state is final) is left unchecked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import attrs

from pelayanan.audit.merkle import leaf_hash

__all__ = [
    "CHECK_COLUMNS",
    "ROW_KINDS",
    "ExpectedRow",
    "RowReplay",
    "RowView",
    "last_entries",
    "row_differences",
]

#: The request columns the check compares, in `RowView` order (``data`` is not read:
#: no decision depends on it, and decoding it would double the cost of the check).
CHECK_COLUMNS = (
    "id, ledger, sop_id, sop_version, sop_hash, state, version, meta, unit, assignee, "
    "last_seq, last_hash"
)

#: The entry kinds that change a request row.
ROW_KINDS = frozenset(
    {
        "submit",
        "action",
        "migration",
        "sla",
        "assignment",
        "disposition",
        "disposition_answer",
        "bukan_wewenang",
    }
)

#: The clock fields an SLA change record carries and the stored clock state must equal.
_CLOCK_FIELDS = (
    "cycle",
    "status",
    "calendar",
    "fingerprint",
    "deadline",
    "budget_us",
    "used_us",
    "paused_us",
)

_UNKNOWN = object()


class RowView(NamedTuple):
    """The columns of a request row that the check compares."""

    id: str
    ledger: str
    sop_id: str
    sop_version: str
    sop_hash: str
    state: str
    version: int
    meta: Mapping[str, Any]
    unit: str | None
    assignee: str | None
    last_seq: int | None
    last_hash: str | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> RowView:
        """Return the view of a row read in `CHECK_COLUMNS` order."""
        return cls(
            row[0], row[1], row[2], row[3], row[4], row[5], int(row[6]), json.loads(row[7]),
            row[8], row[9], None if row[10] is None else int(row[10]), row[11],
        )  # fmt: skip

    @classmethod
    def from_record(cls, record: Any) -> RowView:
        """Return the view of a `RequestRecord`."""
        return cls(
            record.id, record.ledger, record.sop_id, record.sop_version, record.sop_hash,
            record.state, record.version, record.meta, record.unit, record.assignee,
            record.last_seq, record.last_hash,
        )  # fmt: skip


@attrs.define
class ExpectedRow:
    """What one request row must hold, replayed from the log."""

    id: str
    ledger: str
    sop: dict[str, Any]
    state: str
    version: int = 1
    unit: Any = _UNKNOWN
    assignee: Any = None
    actors: dict[str, list[str]] = attrs.Factory(dict)
    clocks: dict[str, dict[str, Any]] = attrs.Factory(dict)
    disposisi: dict[str, Any] | None = None
    last_seq: int = 0
    last_hash: bytes = b""
    first_seq: int = 0


def last_entries(ledger: str, entries: Iterable[tuple[int, bytes]]) -> dict[str, tuple[int, str]]:
    """Return request id -> (seq, hex hash) of the last entry that changed its row.

    Args:
        ledger: the ledger the entries belong to.
        entries: ``(seq, bytes)`` in log order.
    """
    del ledger
    found: dict[str, tuple[int, str]] = {}
    for seq, data in entries:
        entry = json.loads(data)
        if entry.get("kind") in ROW_KINDS and isinstance(entry.get("request"), str):
            found[entry["request"]] = (seq, leaf_hash(data).hex())
    return found


class RowReplay:
    """Fold a ledger's entries into the request rows they produce."""

    def __init__(self) -> None:
        self.rows: dict[str, ExpectedRow] = {}
        #: Entries that change a request the log never submitted: ``(seq, request id)``.
        self.orphans: list[tuple[int, str]] = []

    def __repr__(self) -> str:
        return f"RowReplay(<{len(self.rows)} requests>)"

    def add(self, seq: int, entry_hash: bytes, entry: Mapping[str, Any]) -> None:
        """Fold the parsed entry *entry* (number *seq*, leaf hash *entry_hash*)."""
        kind = entry.get("kind")
        if kind not in ROW_KINDS:
            return
        request_id = entry.get("request")
        if type(request_id) is not str:
            return
        if kind == "submit":
            row = self.rows[request_id] = _submitted(request_id, entry)
            row.first_seq = seq
        else:
            found = self.rows.get(request_id)
            if found is None:
                self.orphans.append((seq, request_id))
                return
            row = found
            row.version += 1
            _FOLDS[kind](row, entry)
        if "clocks" in entry:
            _clock_changes(row, entry)
        row.last_seq = seq
        row.last_hash = entry_hash


def _submitted(request_id: str, entry: Mapping[str, Any]) -> ExpectedRow:
    row = ExpectedRow(
        id=request_id,
        ledger=str(entry.get("ledger")),
        sop=dict(entry.get("sop") or {}),
        state=str(entry.get("to")),
        actors={"submit": [str(entry.get("actor"))]},
        clocks={},
    )
    routing = entry.get("routing")
    if isinstance(routing, Mapping) and "unit" in routing:
        row.unit = routing["unit"]
    assignment = entry.get("assignment")
    if isinstance(assignment, Mapping):
        row.assignee = assignment.get("assignee")
    for change in entry.get("clocks", ()):
        holder = change.get("holder")
        if row.unit is _UNKNOWN and isinstance(holder, Mapping) and "unit" in holder:
            row.unit = holder["unit"]
    return row


def _action(row: ExpectedRow, entry: Mapping[str, Any]) -> None:
    row.state = str(entry.get("to"))
    action = str(entry.get("action"))
    ids = [str(entry.get("actor"))]
    authority = entry.get("authority")
    if isinstance(authority, Mapping) and "principal" in authority:
        ids.append(str(authority["principal"]))
    recorded = row.actors.setdefault(action, [])
    recorded.extend(person for person in ids if person not in recorded)
    routing = entry.get("routing")
    if isinstance(routing, Mapping) and "unit" in routing:
        # An action that dispatched the request: the holder moved in the same entry.
        assignment = entry.get("assignment")
        row.unit = routing["unit"]
        row.assignee = assignment.get("assignee") if isinstance(assignment, Mapping) else None


def _migration(row: ExpectedRow, entry: Mapping[str, Any]) -> None:
    row.state = str(entry.get("to"))
    row.sop = dict(entry.get("sop") or {})


def _sla(row: ExpectedRow, entry: Mapping[str, Any]) -> None:
    clock = row.clocks.setdefault(str(entry.get("clock")), {"fired": []})
    clock.setdefault("fired", []).append(entry.get("key"))
    moved = entry.get("reassign")
    if isinstance(moved, Mapping):
        row.assignee = None
        if "unit" in moved:
            row.unit = moved["unit"]


def _assignment(row: ExpectedRow, entry: Mapping[str, Any]) -> None:
    assignment = entry.get("assignment")
    if isinstance(assignment, Mapping):
        row.assignee = assignment.get("assignee")


def _disposition(row: ExpectedRow, entry: Mapping[str, Any]) -> None:
    state = dict(row.disposisi or {})
    items = list(state.get("items", []))
    numbers = [int(item["id"][1:]) for item in entry.get("dispositions", [])]
    items.extend(
        {
            "id": item["id"],
            "group": entry.get("group"),
            "parent": entry.get("parent"),
            "by": entry.get("actor"),
            "from_unit": entry.get("from_unit"),
            "unit": item.get("unit"),
            "officer": item.get("officer"),
            "instruction": entry.get("instruction"),
            "due": item.get("due"),
            "issued": entry.get("time"),
            "status": "open",
        }
        for item in entry.get("dispositions", [])
    )
    group = str(entry.get("group", "G0"))
    state.update(
        next=max(numbers, default=int(state.get("next", 1)) - 1) + 1,
        next_group=int(group[1:]) + 1,
        items=items,
    )
    row.disposisi = state
    _moved(row, entry.get("holder"))


def _closed(row: ExpectedRow, entry: Mapping[str, Any]) -> None:
    answered = entry.get("kind") == "disposition_answer"
    target = entry.get("disposition")
    if row.disposisi is not None and target is not None:
        for item in row.disposisi.get("items", []):
            if item["id"] == target:
                item.update(
                    status="answered" if answered else "returned",
                    closed_by=entry.get("actor"),
                    text=entry.get("answer" if answered else "reason"),
                    closed=entry.get("time"),
                )
    _moved(row, entry.get("returned_to"))


def _moved(row: ExpectedRow, holder: Any) -> None:
    if isinstance(holder, Mapping):
        row.unit = holder.get("unit")
        row.assignee = holder.get("assignee")


def _clock_changes(row: ExpectedRow, entry: Mapping[str, Any]) -> None:
    for change in entry.get("clocks", []):
        name = str(change.get("clock"))
        clock = row.clocks.setdefault(name, {"fired": []})
        if change.get("change") in ("start", "reset"):
            clock["fired"] = []
        clock.update({key: change[key] for key in _CLOCK_FIELDS if key in change})


_FOLDS = {
    "action": _action,
    "migration": _migration,
    "sla": _sla,
    "assignment": _assignment,
    "disposition": _disposition,
    "disposition_answer": _closed,
    "bukan_wewenang": _closed,
}


def row_differences(expected: ExpectedRow, stored: Any) -> Iterator[str]:
    """Yield what the stored row *stored* (a `RowView`) holds that the log does not."""
    want_hash = expected.last_hash.hex()
    if _agrees(expected, stored, want_hash):
        return
    pinned = {"id": stored.sop_id, "version": stored.sop_version, "hash": stored.sop_hash}
    checks: list[tuple[str, Any, Any]] = [
        ("ledger", stored.ledger, expected.ledger),
        ("sop", pinned, {k: expected.sop.get(k) for k in pinned}),
        ("state", stored.state, expected.state),
        ("version", stored.version, expected.version),
        ("assignee", stored.assignee, expected.assignee),
        ("recorded actors", dict(stored.meta.get("actors", {})), expected.actors),
        (
            "last entry",
            (stored.last_seq, stored.last_hash),
            (expected.last_seq, want_hash),
        ),
    ]
    if expected.unit is not _UNKNOWN:
        checks.append(("unit", stored.unit, expected.unit))
    if expected.disposisi is not None or "disposisi" in stored.meta:
        checks.append(("disposisi", stored.meta.get("disposisi"), expected.disposisi))
    for name, have, want in checks:
        if have != want:
            yield f"{name} is {_short(have)}, the log says {_short(want)}"
    yield from _clock_differences(expected, stored.meta.get("sla", {}))


def _agrees(expected: ExpectedRow, stored: Any, want_hash: str) -> bool:
    """Tell quickly whether a row without clocks or disposisi agrees (the common case)."""
    sop = expected.sop
    meta = stored.meta
    return (
        not expected.clocks
        and expected.disposisi is None
        and "sla" not in meta
        and "disposisi" not in meta
        and stored.state == expected.state
        and stored.version == expected.version
        and stored.last_seq == expected.last_seq
        and stored.last_hash == want_hash
        and stored.assignee == expected.assignee
        and (expected.unit is _UNKNOWN or stored.unit == expected.unit)
        and stored.ledger == expected.ledger
        and stored.sop_id == sop.get("id")
        and stored.sop_version == sop.get("version")
        and stored.sop_hash == sop.get("hash")
        and meta.get("actors") == expected.actors
    )


def _clock_differences(expected: ExpectedRow, stored: Mapping[str, Any]) -> Iterator[str]:
    for name in sorted(set(stored) | set(expected.clocks)):
        have, want = stored.get(name, {}), expected.clocks.get(name, {})
        for key in (*_CLOCK_FIELDS, "fired"):
            if key in want and have.get(key) != want[key]:
                yield (
                    f"SLA clock {name!r} {key} is {_short(have.get(key))}, the log says "
                    f"{_short(want[key])}"
                )
        if not want:
            yield f"SLA clock {name!r} is stored but the log never started it"


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."
