"""Disposisi: routing orders from a superior, kept in a request's ``meta``, and the trail.

A disposisi sends a request to a unit or an officer with an instruction and a due date.
One order may go to several targets at once (a *group* of parallel dispositions, each
with its own due date); the group *joins* when every target has answered or returned it,
and the request goes back to the unit and person who issued it.  A target may pass the
request further down (a chain: the new disposition names its *parent*).  A target that
is not competent answers "bukan wewenang" with a reason: its disposition is *returned*,
and the request goes back for re-routing, never to a dead end (docs/sources.md, Complaints:
"no wrong door").

The functions here are pure: they take the ``meta`` mapping of a request and return a new
one, so the desk can commit it together with the audit entry.  `routing_trail` reads the
audit entries alone and answers "why is this request on my desk?".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from pelayanan.audit.entry import format_time
from pelayanan.audit.kinds import (
    ACTION,
    ACTOR,
    ANSWER,
    ASSIGNEE,
    ASSIGNMENT,
    ATTRIBUTES,
    AUTHORITY,
    DELEGATION,
    DISPOSITION,
    DISPOSITIONS,
    DUE,
    FROM,
    GROUP,
    ID,
    INSTRUCTION,
    JOINED,
    KIND,
    KIND_ACTION,
    KIND_ASSIGNMENT,
    KIND_BUKAN_WEWENANG,
    KIND_DISPOSITION,
    KIND_DISPOSITION_ANSWER,
    KIND_REFUSED,
    KIND_SUBMIT,
    OFFICER,
    PARENT,
    POSITION,
    PRINCIPAL,
    REASON,
    REQUEST,
    RETURNED_TO,
    ROUTING,
    RULE,
    SEQ,
    STRATEGY,
    TIME,
    TO,
    TRIAGE_RULE,
    UNIT,
)
from pelayanan.exceptions import DispositionError, UnknownNameError

__all__ = [
    "DispositionTarget",
    "TrailStep",
    "close_disposition",
    "find_open",
    "issue",
    "open_children",
    "open_dispositions",
    "routing_trail",
]


@attrs.frozen
class DispositionTarget:
    """Where one disposition goes: a unit, an officer (optionally in a unit), a due date.

    Attributes:
        unit: the unit, if the order goes to a unit (or names the officer's unit).
        officer: the officer's actor id, if the order goes to a person.
        due: when the answer is due (timezone-aware); ``None`` takes the order's due date.
    """

    unit: str | None = None
    officer: str | None = None
    due: dt.datetime | None = None

    def __attrs_post_init__(self) -> None:
        """Refuse a target naming neither a unit nor an officer."""
        if self.unit is None and self.officer is None:
            msg = "a disposition target needs a unit or an officer"
            raise DispositionError(msg)

    def label(self) -> str:
        """Return the target as shown in messages (``officer@unit``, ``unit`` or ``officer``)."""
        if self.officer is not None and self.unit is not None:
            return f"{self.officer}@{self.unit}"
        return self.officer or self.unit or ""


def _items(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [dict(item) for item in meta.get("disposisi", {}).get("items", [])]


def _targets(item: Mapping[str, Any], unit: str | None, ids: Sequence[str]) -> bool:
    if item.get("officer") is not None:
        return item["officer"] in ids
    return unit is not None and item.get("unit") == unit


def find_open(
    meta: Mapping[str, Any], *, unit: str | None, ids: Sequence[str]
) -> list[dict[str, Any]]:
    """Return the open dispositions addressed to *unit* or to one of *ids*, newest first."""
    found = [i for i in _items(meta) if i["status"] == "open" and _targets(i, unit, ids)]
    return sorted(found, key=lambda i: int(i["id"][1:]), reverse=True)


def open_dispositions(meta: Mapping[str, Any]) -> list[str]:
    """Return the ids of every disposisi on the request still open, in issue order."""
    return [str(i["id"]) for i in _items(meta) if i["status"] == "open"]


def open_children(meta: Mapping[str, Any], disposition_id: str) -> list[str]:
    """Return the ids of open dispositions issued under *disposition_id*."""
    return [
        i["id"] for i in _items(meta) if i.get("parent") == disposition_id and i["status"] == "open"
    ]


def issue(
    meta: Mapping[str, Any],
    targets: Sequence[DispositionTarget],
    *,
    by: str,
    from_unit: str | None,
    parent: str | None,
    instruction: str,
    due: dt.datetime | None,
    at: dt.datetime,
) -> tuple[dict[str, Any], str, list[dict[str, Any]]]:
    """Add a group of dispositions to *meta*.

    Args:
        meta: the request's meta.
        targets: where the dispositions go (one group; several targets are parallel).
        by: the id of the person issuing it.
        from_unit: the unit issuing it (the request returns there when the group joins).
        parent: the disposition this one continues (a chain), if any.
        instruction: what the targets are asked to do.
        due: the default due date of every target.
        at: when it is issued.

    Returns:
        The new meta, the group id, and the dispositions created.

    Raises:
        DispositionError: a target has no due date, or a due date is not after *at* (a
            `ValueError`).
    """
    state = dict(meta.get("disposisi", {}))
    items = _items(meta)
    number = int(state.get("next", 1))
    group = f"G{int(state.get('next_group', 1))}"
    created: list[dict[str, Any]] = []
    for target in targets:
        when = target.due or due
        if when is None:
            msg = f"the disposition to {target.label()!r} needs a due date"
            raise DispositionError(msg)
        if when.tzinfo is None or when <= at:
            msg = (
                f"the due date of the disposition to {target.label()!r} must be aware and after now"
            )
            raise DispositionError(msg)
        created.append(
            {
                "id": f"D{number}",
                "group": group,
                "parent": parent,
                "by": by,
                "from_unit": from_unit,
                "unit": target.unit,
                "officer": target.officer,
                "instruction": instruction,
                "due": format_time(when),
                "issued": format_time(at),
                "status": "open",
            }
        )
        number += 1
    state.update(next=number, next_group=int(group[1:]) + 1, items=items + created)
    return {**meta, "disposisi": state}, group, created


def close_disposition(
    meta: Mapping[str, Any],
    disposition_id: str,
    *,
    status: str,
    by: str,
    text: str,
    at: dt.datetime,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """Mark a disposition ``answered`` or ``returned`` (bukan wewenang).

    Args:
        meta: the request's meta.
        disposition_id: the disposition.
        status: ``answered`` or ``returned``.
        by: who answered.
        text: the answer or the reason.
        at: when.

    Returns:
        The new meta, the closed disposition, and, when this closed the last open member of
        its group, the group's join: ``{"group", "unit", "assignee"}`` (where it returns).

    Raises:
        UnknownNameError: no disposition with that id (a `KeyError`).
        DispositionError: it is not open (a `ValueError`).
    """
    items = _items(meta)
    item = next((i for i in items if i["id"] == disposition_id), None)
    if item is None:
        raise UnknownNameError("disposition", disposition_id)
    if item["status"] != "open":
        msg = f"disposition {disposition_id} is already {item['status']}"
        raise DispositionError(msg)
    item.update(status=status, closed_by=by, text=text, closed=format_time(at))
    group = [i for i in items if i["group"] == item["group"]]
    joined = None
    if all(i["status"] != "open" for i in group):
        joined = {"group": item["group"], "unit": item["from_unit"], "assignee": item["by"]}
    state = {**meta.get("disposisi", {}), "items": items}
    return {**meta, "disposisi": state}, item, joined


# --- the trail -------------------------------------------------------------------------


@attrs.frozen
class TrailStep:
    """One decision in a request's routing history, read from the audit log.

    Attributes:
        seq: the audit entry's sequence number.
        time: the entry's time.
        kind: the entry kind.
        text: the decision in words, naming the rule or person who made it.
    """

    seq: int
    time: str
    kind: str
    text: str

    def render(self) -> str:
        """Return ``#SEQ TIME text``."""
        return f"#{self.seq} {self.time} {self.text}"


def _by(entry: Mapping[str, Any]) -> str:
    who = str(entry.get(ACTOR))
    authority = entry.get(AUTHORITY)
    if isinstance(authority, Mapping):
        who += (
            f" ({str(authority.get(KIND, '')).upper()} for {authority.get(PRINCIPAL)},"
            f" {authority.get(DELEGATION)})"
        )
    return who


def _assignment_text(assignment: Mapping[str, Any]) -> str:
    if assignment.get(ASSIGNEE) is None:
        return f"not assigned in {assignment.get(UNIT)} ({assignment.get(REASON)})"
    return (
        f"assigned to {assignment[ASSIGNEE]} in {assignment.get(UNIT)} by strategy "
        f"{assignment.get(STRATEGY)}: {assignment.get(REASON)}"
    )


def _submit_texts(entry: Mapping[str, Any]) -> list[str]:
    return [f"submitted by {_by(entry)}", *_routing_texts(entry)]


def _routing_texts(entry: Mapping[str, Any]) -> list[str]:
    """Return the routing decision an entry (a submission or a dispatching action) holds."""
    routing = entry.get(ROUTING)
    if not isinstance(routing, Mapping):
        return []
    attributes = ", ".join(f"{k}={v}" for k, v in sorted(routing[ATTRIBUTES].items()))
    if routing.get(RULE) == TRIAGE_RULE:
        return [f"routed to triage unit {routing[UNIT]}: no rule matched ({attributes})"]
    where = f" (#{routing[POSITION]})" if routing.get(POSITION) is not None else ""
    return [f"routed to {routing[UNIT]} by rule {routing[RULE]!r}{where} on {attributes}"]


def _disposition_texts(entry: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for item in entry.get(DISPOSITIONS, []):
        target = item.get(OFFICER) or item.get(UNIT)
        if item.get(OFFICER) and item.get(UNIT):
            target = f"{item[OFFICER]}@{item[UNIT]}"
        parent = f", under {entry[PARENT]}" if entry.get(PARENT) else ""
        out.append(
            f"disposisi {item[ID]} ({entry.get(GROUP)}{parent}) by {_by(entry)} to "
            f"{target}, due {item.get(DUE)}: {entry.get(INSTRUCTION)!r}"
        )
    return out


def _action_texts(entry: Mapping[str, Any]) -> list[str]:
    moved = f"{entry.get(ACTION)} by {_by(entry)}: {entry.get(FROM)} -> {entry.get(TO)}"
    return [moved, *_routing_texts(entry)]


def _answer_texts(entry: Mapping[str, Any]) -> list[str]:
    answer = entry.get(ANSWER)
    return [f"disposisi {entry.get(DISPOSITION)} answered by {_by(entry)}: {answer!r}"]


def _return_texts(entry: Mapping[str, Any]) -> list[str]:
    which = entry.get(DISPOSITION) or "the routing"
    return [f"bukan wewenang on {which} by {_by(entry)}: {entry.get(REASON)!r}"]


def _assignment_texts(entry: Mapping[str, Any]) -> list[str]:
    return [f"assignment by {_by(entry)}"]


#: The decision each kind states, before what every kind may add (returns, assignments).
_KIND_TEXTS: dict[str, Callable[[Mapping[str, Any]], list[str]]] = {
    KIND_SUBMIT: _submit_texts,
    KIND_ACTION: _action_texts,
    KIND_DISPOSITION: _disposition_texts,
    KIND_DISPOSITION_ANSWER: _answer_texts,
    KIND_BUKAN_WEWENANG: _return_texts,
    KIND_ASSIGNMENT: _assignment_texts,
}


def _step_texts(entry: Mapping[str, Any]) -> list[str]:
    texts = _KIND_TEXTS.get(str(entry.get(KIND)))
    out = texts(entry) if texts is not None else []
    returned = entry.get(RETURNED_TO)
    if isinstance(returned, Mapping):
        joined = f"group {entry[JOINED]} joined; " if entry.get(JOINED) else ""
        holder = returned.get(ASSIGNEE) or "the unit"
        out.append(f"{joined}returned to {holder} in {returned.get(UNIT)}")
    assignment = entry.get(ASSIGNMENT)
    if isinstance(assignment, Mapping):
        out.append(_assignment_text(assignment))
    return out


def routing_trail(entries: Iterable[Mapping[str, Any]], request_id: str) -> list[TrailStep]:
    """Return the routing, assignment and disposition decisions on *request_id*, in order.

    Reads decoded audit entries only (no store, no request state), so an auditor holding
    an export can answer "why is this on my desk" without the database.

    Args:
        entries: decoded audit entries (any order of ledgers; only this request's count).
        request_id: the request.

    Returns:
        One step per decision, in log order.
    """
    steps: list[TrailStep] = []
    for entry in entries:
        if entry.get(REQUEST) != request_id or entry.get(KIND) == KIND_REFUSED:
            continue
        seq, time, kind = int(entry.get(SEQ, -1)), str(entry.get(TIME)), str(entry[KIND])
        steps.extend(TrailStep(seq, time, kind, text) for text in _step_texts(entry))
    return steps
