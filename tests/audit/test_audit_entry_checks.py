"""The verifier's entry check pinned to the plain definition (`pelayanan.audit`).

`check_entry` takes the C-encoder fast path of `parse_canonical_text`; this property says
it gives the same answers as the plain definition (full RFC 8785 encoding compared with
the bytes, then `entry_problem`) on random bodies and random byte mutations.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pelayanan.audit.canonical import MAX_SAFE_INTEGER, canonical_json
from pelayanan.audit.entry import (
    FIELD_TYPES,
    GENESIS_PREV,
    REQUIRED_FIELDS,
    encode_entry,
    entry_problem,
    format_time,
    ledger_id_problem,
)
from pelayanan.audit.keys import generate_key_pair
from pelayanan.audit.verify import check_entry
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import (
    CanonicalEncodingError,
    InvalidArgumentError,
    MalformedEntryError,
    SequenceError,
)
from pelayanan.store import MemoryStore

_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["\u0000", '"', "\\", "\ue000", "\U0001f600", "0", "a", "Z", "-"]),
    ),
    max_size=8,
)
# Keys where code point order and UTF-16 order differ, drawn often enough to meet.
_keys = st.one_of(st.sampled_from(["\ue000", "\U0001f600", "a"]), _text)
_ints = st.one_of(st.integers(-3, 3), st.integers(-(2**60), 2**60))
_values = st.recursive(
    st.one_of(st.none(), st.booleans(), _ints, _text),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=3)),
    max_leaves=6,
)
_FIELDS = sorted({*REQUIRED_FIELDS, *FIELD_TYPES, "extra"})


@st.composite
def _bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Generate full v1 entries, then replace or drop a few fields with arbitrary values."""
    when = draw(st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 1, 1)))
    entry: dict[str, Any] = {
        "v": 1,
        "ledger": "L",
        "seq": draw(st.integers(0, 3)),
        "time": format_time(when.replace(tzinfo=dt.UTC)),
        "kind": draw(st.sampled_from(["submit", "action", "refused"])),
        "prev": draw(st.sampled_from([GENESIS_PREV, "ab" * 32])),
        "request": draw(st.one_of(st.none(), _text)),
        "sop": {"id": draw(_text), "version": "1.0.0", "hash": "ab" * 32},
        "action": draw(_text),
        "actor": draw(_text),
        "data": draw(st.dictionaries(_keys, _values, max_size=3)),
    }
    if draw(st.booleans()):
        field = draw(st.sampled_from(sorted(_CLOSE_CALLS)))
        entry[field] = draw(st.sampled_from(_CLOSE_CALLS[field]))
    for field in draw(st.lists(st.sampled_from(_FIELDS), max_size=3)):
        if draw(st.booleans()):
            entry.pop(field, None)
        else:
            close = _CLOSE_CALLS.get(field, []) + _ANY_FIELD
            entry[field] = draw(st.one_of(st.sampled_from(close), _values))
    return entry


# Values a step away from valid, where a fast check might cut a corner.
_CLOSE_CALLS: dict[str, list[object]] = {
    "v": [2, 0, True, 1.0],
    "seq": [-1, True, 1.0],
    "time": [
        "2024-02-30T00:00:00.000000Z",
        "2024-01-01T00:00:00.000000z",
        "2024-01-01T00:00:00Z",
        "2024-01-01T24:00:00.000000Z",
        "2024-01-01T00:00:00.000000+00:00",
    ],
    "prev": ["AB" * 32, "ab" * 31, "ab" * 32 + "\n", "ab" * 32 + "0", "gg" * 32],
    "sop": [{"id": "x", "version": "1"}, {"id": "x", "version": "1", "hash": None}, []],
    "data": [[], "x"],
}
_ANY_FIELD: list[object] = [None, "", 0, [], {}]


def _plain_check(data: bytes, ledger: str, position: int) -> type[Exception] | None:
    """Check an entry line the plain way: full canonical check, then `entry_problem`."""
    try:
        value = json.loads(data.decode("utf-8"))
        if canonical_json(value) != data:
            return MalformedEntryError
    except (UnicodeDecodeError, ValueError, RecursionError, CanonicalEncodingError):
        return MalformedEntryError
    if type(value) is not dict or entry_problem(value) is not None:
        return MalformedEntryError
    if value["ledger"] != ledger or value["seq"] != position:
        return SequenceError
    return None


def _fast_check(data: bytes, ledger: str, position: int) -> type[Exception] | None:
    try:
        check_entry(data, ledger, position)
    except (MalformedEntryError, SequenceError) as exc:
        return type(exc)
    return None


class TestFastEntryChecks:
    @settings(max_examples=400)
    @given(_bodies(), st.data())
    def test_check_entry_agrees_with_plain_check(self, entry: dict[str, Any], data: Any) -> None:
        """Random bodies and byte mutations: both checks accept, or both refuse alike."""
        try:
            line = canonical_json(entry)
        except CanonicalEncodingError:
            line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()
        for _ in range(data.draw(st.integers(0, 3))):
            at = data.draw(st.integers(0, len(line)))
            byte = bytes([data.draw(st.integers(0, 255))])
            how = data.draw(st.sampled_from(["replace", "insert", "delete"]))
            tail = line[at + 1 :] if how != "insert" else line[at:]
            line = line[:at] + (b"" if how == "delete" else byte) + tail
        position = data.draw(st.integers(0, 3))
        assert _fast_check(line, "L", position) is _plain_check(line, "L", position)

    def test_encoded_entries_pass_both_checks(self) -> None:
        """A freshly encoded entry passes both checks (the properties above are not vacuous)."""
        body = {"time": "2024-01-01T00:00:00.000000Z", "kind": "submit", "big": MAX_SAFE_INTEGER}
        line, _ = encode_entry(body, ledger="L", seq=2, prev=GENESIS_PREV)
        assert _fast_check(line, "L", 2) is None
        assert entry_problem(json.loads(line)) is None
        assert _plain_check(line, "L", 2) is None
        assert _plain_check(line, "L", 1) is SequenceError


@given(st.text(max_size=70))
@settings(max_examples=200)
def test_ledger_ids_follow_the_rule(ledger: str) -> None:
    """A ledger id is 1 to 64 of [A-Za-z0-9._-], starting with a letter or a digit."""
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    valid = 0 < len(ledger) <= 64 and set(ledger) <= allowed and ledger[0] not in "._-"
    assert (ledger_id_problem(ledger) is None) == valid


def test_the_desk_refuses_an_invalid_ledger_id() -> None:
    with pytest.raises(InvalidArgumentError, match="ledger id 'kota a'"):
        ServiceDesk(MemoryStore(), sops=[], signing_key=generate_key_pair(), ledger="kota a")
    assert ServiceDesk(MemoryStore(), sops=[], signing_key=generate_key_pair()).ledger == "default"
