"""Tests for canonical JSON and entry format v1 (`pelayanan.audit.canonical`, `.entry`)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

import pelayanan.audit.canonical as canonical_impl
from pelayanan.audit.canonical import MAX_SAFE_INTEGER, canonical_json, parse_canonical
from pelayanan.audit.entry import (
    GENESIS_PREV,
    encode_entry,
    entry_problem,
    format_time,
    is_entry_time,
    parse_time,
)
from pelayanan.audit.merkle import leaf_hash
from pelayanan.exceptions import CanonicalEncodingError

# Strings over all of Unicode except lone surrogates (not valid in UTF-8), with a bias
# towards the characters where JSON escaping and UTF-16 key order are delicate.
_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(
            ["\u0000", "\u001f", '"', "\\", "\u007f", "\u2028", "\ue000", "\U0001f600"]
        ),
    ),
    max_size=12,
)
_ints = st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
_scalars = st.one_of(st.none(), st.booleans(), _ints, _text)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=4)),
    max_leaves=12,
)


@st.composite
def _entries(draw: st.DrawFn) -> dict[str, Any]:
    """Generate entry bodies of the v1 shape with arbitrary data and extra fields."""
    body: dict[str, Any] = {
        "time": format_time(
            draw(
                st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1))
            ).replace(tzinfo=dt.UTC)
        ),
        "kind": draw(st.sampled_from(["submit", "action", "refused"])),
        "request": draw(st.one_of(st.none(), _text)),
        "sop": {"id": draw(_text), "version": "1.0.0", "hash": "ab" * 32},
        "action": draw(_text),
        "actor": draw(_text),
        "role": draw(st.one_of(st.none(), _text)),
        "from": draw(st.one_of(st.none(), _text)),
        "to": draw(st.one_of(st.none(), _text)),
        "data": draw(st.dictionaries(_text, _values, max_size=5)),
    }
    extra = draw(st.dictionaries(_text, _values, max_size=3))
    for key, value in extra.items():
        body.setdefault(key, value)
    return body


class TestCanonicalJSON:
    @settings(max_examples=80)
    @given(_entries(), st.text(min_size=1, max_size=10), st.integers(0, 10**9))
    def test_entry_bytes_equal_rfc8785_package(
        self, body: dict[str, Any], ledger: str, seq: int
    ) -> None:
        """Encoded entries are byte for byte what the rfc8785 package produces."""
        data, digest = encode_entry(body, ledger=ledger, seq=seq, prev=GENESIS_PREV)
        full = {**body, "v": 1, "ledger": ledger, "seq": seq, "prev": GENESIS_PREV}
        assert data == rfc8785.dumps(full)
        assert digest == leaf_hash(data)

    @settings(max_examples=80)
    @given(_values)
    def test_values_equal_rfc8785_and_parse_back(self, value: Any) -> None:
        """Any value of the allowed types encodes as RFC 8785 does and parses back."""
        data = canonical_json(value)
        assert data == rfc8785.dumps(value)
        assert parse_canonical(data) == json.loads(data)

    @settings(max_examples=80)
    @given(_values)
    def test_parse_accepts_only_canonical_bytes(self, value: Any) -> None:
        """Re-serialisations with other spacing or escaping are refused; canonical bytes pass."""
        canonical = canonical_json(value)
        for variant in (
            json.dumps(value, ensure_ascii=False).encode(),
            json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode(),
        ):
            if variant == canonical:
                assert parse_canonical(variant) == json.loads(variant)
            else:
                with pytest.raises(CanonicalEncodingError):
                    parse_canonical(variant)

    def test_utf16_key_order(self) -> None:
        """Keys sort by UTF-16 code units: U+E000 comes after U+1F600 (a surrogate pair)."""
        data = canonical_json({"\ue000": 1, "\U0001f600": 2})
        assert data == rfc8785.dumps({"\ue000": 1, "\U0001f600": 2})
        assert data.decode().index("\U0001f600") < data.decode().index("\ue000")
        wrong = json.dumps({"\ue000": 1, "\U0001f600": 2}, ensure_ascii=False, sort_keys=True)
        with pytest.raises(CanonicalEncodingError):
            parse_canonical(wrong.replace(", ", ",").replace(": ", ":").encode())

    @pytest.mark.parametrize(
        "text",
        [
            b'{"a":1.5}',
            b'{"a":NaN}',
            b'{"a":9007199254740993}',
            b'{"a":"\\ud800"}',
            b'{"a":1,"a":1}',
            b"\xff",
            b'{"a":"\\u00e9"}',
        ],
    )
    def test_refuses_non_canonical_inputs(self, text: bytes) -> None:
        """Floats, NaN, big ints, lone surrogates, duplicate keys, bad UTF-8, escapes: refused."""
        with pytest.raises(CanonicalEncodingError):
            parse_canonical(text)

    @pytest.mark.parametrize(
        ("text", "fragment"),
        [
            (b' {"a":1}', "not in canonical form"),
            (b'{"a":1} ', "not in canonical form"),
            (b'{"a":1}{}', "not valid UTF-8 JSON: Extra data"),
            (b'{"a":1', "not valid UTF-8 JSON"),
            (b"", "not valid UTF-8 JSON"),
            (b"-0", "not in canonical form"),
        ],
    )
    def test_what_the_scanner_does_not_consume_is_named(self, text: bytes, fragment: str) -> None:
        """Whitespace around the value is valid JSON but not canonical; the rest is not JSON."""
        with pytest.raises(CanonicalEncodingError, match=fragment):
            parse_canonical(text)

    @pytest.mark.parametrize("value", [1.0, 2**53, {1: "a"}, object(), "\ud800"])
    def test_refuses_unencodable_values(self, value: object) -> None:
        """Values outside the entry types raise CanonicalEncodingError, not a traceback."""
        with pytest.raises(CanonicalEncodingError):
            canonical_json(value)


class TestEntryShape:
    def _entry(self, **changes: object) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "v": 1,
            "ledger": "l",
            "seq": 0,
            "time": "2026-07-06T01:00:00.000000Z",
            "kind": "submit",
            "prev": GENESIS_PREV,
            "request": "R",
            "sop": {"id": "s", "version": "1", "hash": "h"},
            "data": {},
        }
        entry.update(changes)
        return {k: v for k, v in entry.items() if v is not ...}

    def test_valid_entry_has_no_problem(self) -> None:
        """A complete v1 entry passes the shape check."""
        assert entry_problem(self._entry()) is None

    @pytest.mark.parametrize(
        ("changes", "fragment"),
        [
            ({"v": 2}, "version"),
            ({"seq": True}, "'seq'"),
            ({"seq": -1}, "negative"),
            ({"kind": ...}, "'kind'"),
            ({"time": "2026-07-06T01:00:00Z"}, "time"),
            ({"time": "2026-02-30T01:00:00.000000Z"}, "time"),
            ({"prev": "AB" * 32}, "'prev'"),
            ({"data": []}, "'data'"),
            ({"request": 5}, "'request'"),
            ({"sop": {"id": "s"}}, "'sop'"),
        ],
    )
    def test_problems_are_named(self, changes: dict[str, object], fragment: str) -> None:
        """Each deviation from the v1 shape is reported naming the field."""
        problem = entry_problem(self._entry(**changes))
        assert problem is not None
        assert fragment in problem

    def test_entry_time_format(self) -> None:
        """Entry times are UTC with exactly six fractional digits and a Z."""
        assert is_entry_time(format_time(dt.datetime(2026, 7, 6, 8, tzinfo=dt.UTC)))
        assert not is_entry_time("2026-07-06T08:00:00.000000+00:00")

    @given(
        st.datetimes(
            min_value=dt.datetime(1, 1, 2),  # bounds of the naive strategy
            max_value=dt.datetime(9999, 12, 30),
            timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=7))]),
        )
    )
    def test_entry_time_round_trip(self, value: dt.datetime) -> None:
        """Any aware instant formats to an entry time that parses back to the same instant."""
        text = format_time(value)
        assert is_entry_time(text)
        assert text.endswith("Z")
        assert len(text) == 27  # four-digit year, six fractional digits
        assert parse_time(text) == value

    @pytest.mark.parametrize(
        "text",
        [
            "2026-07-06T08:00:00.000000+00:00",
            "2026-07-06T08:00:00Z",
            "2026-7-06T08:00:00.000000Z",
            "2026-07-06 08:00:00.000000Z",
            "2026-02-30T08:00:00.000000Z",
            "",
        ],
    )
    def test_parse_time_refuses_other_shapes(self, text: str) -> None:
        """Only the exact entry time shape parses (a valid ISO string of another shape too)."""
        with pytest.raises(ValueError, match=r"entry time|day is out of range"):
            parse_time(text)
        with pytest.raises(ValueError, match=r"entry time|day is out of range"):
            parse_time(text)  # a refusal is not remembered: asked again, it refuses again

    @pytest.mark.parametrize("value", [None, 5, b"2026-07-06T08:00:00.000000Z", ["x"]])
    def test_parse_time_refuses_non_strings(self, value: object) -> None:
        """A value that is not a string is a ValueError, like a malformed string."""
        with pytest.raises(ValueError, match="entry time"):
            parse_time(value)  # type: ignore[arg-type]

    def test_parse_time_neighbours(self) -> None:
        """Times a microsecond apart parse to instants a microsecond apart, in UTC."""
        first = parse_time("2026-07-06T08:00:00.000001Z")
        second = parse_time("2026-07-06T08:00:00.000002Z")
        assert second - first == dt.timedelta(microseconds=1)
        assert parse_time("2026-07-06T08:00:00.000001Z") == first
        assert first.tzinfo is dt.UTC


# Integers of any size: those beyond the exact range must be refused by both encoders.
_any_ints = st.one_of(_ints, st.integers(), st.sampled_from([2**53, -(2**53), 2**64, -(2**70)]))
# Keys where code point order and UTF-16 order differ (BMP at or above U+E000 against
# astral characters), drawn often enough to meet in one object.
_keys = st.one_of(st.sampled_from(["\ue000", "\uff61", "\U0001f600", "\U00010000", "a"]), _text)
_wide_values = st.recursive(
    st.one_of(st.none(), st.booleans(), _any_ints, _text),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=12,
)


class TestFastCanonicalCheck:
    """The verifier's C-encoder fast path (`_sorted_text`) against the rfc8785 package."""

    @settings(max_examples=300)
    @given(_wide_values)
    def test_fast_encoder_equals_rfc8785_where_it_vouches(self, value: Any) -> None:
        """Where the fast path is taken, its text is exactly what rfc8785 produces."""
        try:
            expected = rfc8785.dumps(value)
        except rfc8785.IntegerDomainError:
            with pytest.raises(CanonicalEncodingError):
                canonical_json(value)
            return
        assert canonical_json(value) == expected
        if canonical_impl._fast_path_ok(expected):
            assert canonical_impl._sorted_text(value).encode("utf-8") == expected
        assert parse_canonical(expected) == json.loads(expected)

    @settings(max_examples=300)
    @given(_wide_values)
    def test_fast_and_full_checks_agree_on_any_serialisation(self, value: Any) -> None:
        """parse_canonical accepts a serialisation exactly when it equals rfc8785's bytes."""
        try:
            expected: bytes | None = rfc8785.dumps(value)
        except rfc8785.IntegerDomainError:
            expected = None
        for data in (
            json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode(),
            json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(),
            json.dumps(value, ensure_ascii=True, separators=(",", ":"), sort_keys=True).encode(),
        ):
            if data == expected:
                assert parse_canonical(data) == json.loads(data)
            else:
                with pytest.raises(CanonicalEncodingError):
                    parse_canonical(data)
