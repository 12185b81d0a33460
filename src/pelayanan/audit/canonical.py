"""Canonical JSON for audit entries (RFC 8785 rules for the types entries use).

Entries hold only strings, integers, booleans, null, arrays and objects: no floats, so
the number rules of RFC 8785 reduce to "integers in the IEEE-754 exact range, written in
decimal".  Object members are sorted by their UTF-16 code units (RFC 8785 §3.2.3);
strings are escaped as ECMAScript's ``JSON.stringify`` does (RFC 8785 §3.2.2.2), which is
what ``json.dumps(..., ensure_ascii=False)`` does too.  The output is UTF-8.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pelayanan.exceptions import CanonicalEncodingError

__all__ = [
    "MAX_SAFE_INTEGER",
    "JSONValue",
    "canonical_json",
    "parse_canonical",
    "parse_canonical_text",
]

#: Largest integer an IEEE-754 double holds exactly (RFC 8785 §3.2.2.3 via I-JSON).
MAX_SAFE_INTEGER = 2**53 - 1

JSONValue = None | bool | int | str | Sequence["JSONValue"] | Mapping[str, "JSONValue"]

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
# The C encoder with sort_keys orders keys by code point, which equals UTF-16 code unit
# order unless a key holds a character at or above U+E000 (UTF-8 lead bytes 0xEE-0xF4).
_FAST_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, sort_keys=True
)
# The C encoder itself, called without JSONEncoder.encode's per-call Python layers (the
# verifier calls it once per entry).  markers=None skips the cycle check: parsed JSON has
# no cycles.  None when the C accelerator is missing (then the encoder above is used).
# `json.encoder.c_make_encoder` is undocumented, so its output is pinned to the rfc8785
# package by a property test (tests/audit/test_audit_canonical.py, TestFastCanonicalCheck).
# Figure (docs/performance.md): 3.4 µs per demo entry against 4.2 µs through
# JSONEncoder.encode, about 9% of `check_entry` (8.8 µs); the full RFC 8785 encoder
# would take 22.9 µs.
_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODE = (
    _c_make_encoder(
        None,
        _FAST_ENCODER.default,
        json.encoder.encode_basestring,
        None,
        ":",
        ",",
        True,  # sort_keys
        False,  # skipkeys
        False,  # allow_nan
    )
    if _c_make_encoder is not None
    else None
)


def _sorted_text(value: Any) -> str:
    if _C_ENCODE is not None:
        return "".join(_C_ENCODE(value, 0))
    return _FAST_ENCODER.encode(value)


# Lines the fast check cannot vouch for (characters at or above U+E000, see above) take
# the full check instead.  bytes.translate is a C loop, far faster than a regex here.
_BELOW_EE = bytes(range(0xEE))


def _fast_path_ok(data: bytes) -> bool:
    return data.isascii() or not data.translate(None, _BELOW_EE)


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _normalize(value: Any, path: str) -> Any:
    # bool is an int subclass: test it first so True stays true, not 1.
    if value is None or isinstance(value, bool | str):
        if isinstance(value, str):
            _check_string(value, path)
        return value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            # The value may be an identity number: say its size, never the digits.
            msg = (
                f"{path}: an integer of {value.bit_length()} bits is outside the exact range "
                "of RFC 8785 numbers (53 bits); send it as a string"
            )
            raise CanonicalEncodingError(msg)
        return int(value)
    if isinstance(value, Mapping):
        items = []
        for key, item in value.items():
            if not isinstance(key, str):
                msg = f"{path}: object keys must be strings, got {type(key).__name__}"
                raise CanonicalEncodingError(msg)
            _check_string(key, path)
            items.append((key, _normalize(item, f"{path}.{key}")))
        items.sort(key=lambda kv: _utf16_key(kv[0]))
        return dict(items)
    if isinstance(value, list | tuple):
        return [_normalize(item, f"{path}[{i}]") for i, item in enumerate(value)]
    msg = (
        f"{path}: {type(value).__name__} cannot be canonical JSON "
        "(use strings for decimals and instants)"
    )
    raise CanonicalEncodingError(msg)


def _check_string(value: str, path: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        msg = f"{path}: string holds a lone surrogate and is not valid Unicode"
        raise CanonicalEncodingError(msg) from exc


def canonical_json(value: Any) -> bytes:
    """Encode *value* as canonical JSON bytes.

    Args:
        value: a tree of ``None``, ``bool``, ``int``, ``str``, lists/tuples and mappings
            with string keys.

    Returns:
        The UTF-8 bytes of the canonical form.

    Raises:
        CanonicalEncodingError: the value holds a float, an integer outside the exact
            range, a non-string key, a lone surrogate or an unsupported type.
    """
    return _ENCODER.encode(_normalize(value, "$")).encode("utf-8")


def parse_canonical(data: bytes) -> Any:
    """Parse *data* and check that it is already in canonical form.

    Raises:
        CanonicalEncodingError: the bytes are not JSON, or not canonical JSON.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = f"not valid UTF-8 JSON: {exc}"
        raise CanonicalEncodingError(msg) from exc
    return parse_canonical_text(text, data)


def parse_canonical_text(text: str, data: bytes) -> Any:
    """Parse *text* (the UTF-8 decoding of *data*) and check that *data* is canonical.

    The verifier's hot path: one parse, one C-encoder pass compared as text (strict
    UTF-8 decoding is one-to-one, so equal text means equal bytes), and the exact RFC 8785
    encoder only for lines the C encoder cannot vouch for: keys may hold characters at
    or above U+E000, where code point order and UTF-16 order differ.

    Args:
        text: the decoded line.
        data: its bytes.

    Returns:
        The parsed value.

    Raises:
        CanonicalEncodingError: the text is not JSON, or not canonical JSON.
    """
    value = _parse(text)
    # Fast path (verification of millions of lines): the C encoder reproduces the text.
    if _fast_path_ok(data):
        try:
            if _sorted_text(value) == text:
                return value
        except (ValueError, TypeError, RecursionError):
            pass  # NaN or an unexpected type: the full check below names the problem
    if canonical_json(value) != data:
        msg = "JSON is valid but not in canonical form (key order, spacing or escaping)"
        raise CanonicalEncodingError(msg)
    return value


def _parse(text: str) -> Any:
    """Parse *text* as one JSON value (`CanonicalEncodingError` if it is not JSON).

    A canonical line has no whitespace around its value, so the C scanner is called on
    the first character directly, without the two whitespace scans of
    `json.JSONDecoder.decode` (0.7 µs of the 3.2 µs a demo entry's parse takes); a
    line it does not consume whole takes the full decoder, which names the problem.
    """
    try:
        value, end = _SCAN(text, 0)
        if end == len(text):
            return value
    except (StopIteration, json.JSONDecodeError, RecursionError):
        pass
    try:
        return _DECODER.decode(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        msg = f"not valid UTF-8 JSON: {exc}"
        raise CanonicalEncodingError(msg) from exc


def _refuse_float(text: str) -> Any:
    msg = f"floats are not allowed in canonical entries (found {text})"
    raise CanonicalEncodingError(msg)


def _exact_int(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        msg = f"integer {text} is outside the exact range of RFC 8785 numbers"
        raise CanonicalEncodingError(msg)
    return value


# One decoder for every line: json.loads with hooks would build a new one per call.
_DECODER = json.JSONDecoder(parse_float=_refuse_float, parse_int=_exact_int)
# The scanner `JSONDecoder.__init__` builds (C when available); typeshed does not list it.
_SCAN: Any = _DECODER.scan_once  # type: ignore[attr-defined]
