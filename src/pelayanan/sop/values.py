"""Check request data against the field types an SOP declares.

The SOP's ``fields`` section gives each field a type (`FIELD_TYPES`).  Values travel in
canonical JSON entries, which hold no floats, so decimal quantities (``number``,
``money``) are integers or decimal strings.  A document (kelengkapan berkas) is a
reference to a filed document: a non-empty string, or a mapping with a non-empty ``id``.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from typing import Any

from pelayanan.sop.model import SOP, FieldDef

__all__ = ["value_problems"]


def _is_decimal(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, str):
        try:
            return decimal.Decimal(value).is_finite()
        except decimal.InvalidOperation:
            return False
    return False


def _is_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _is_datetime(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return parsed.tzinfo is not None


def _is_document(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, Mapping):
        ref = value.get("id")
        return isinstance(ref, str) and bool(ref.strip())
    return False


_EXPECTED = {
    "text": "text",
    "integer": "a whole number",
    "number": 'a number (an integer or a decimal string such as "12.5")',
    "boolean": "true or false",
    "date": "a date YYYY-MM-DD",
    "datetime": "an ISO 8601 date and time with its UTC offset",
    "money": "an amount (integer rupiah or a decimal string)",
    "document": "a document reference (a non-empty id, or a mapping with 'id')",
}


def _fits(field: FieldDef, value: Any) -> bool:
    kind = field.type
    if kind == "text":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("number", "money"):
        return _is_decimal(value)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "date":
        return _is_date(value)
    if kind == "datetime":
        return _is_datetime(value)
    if kind == "choice":
        return isinstance(value, str) and value in field.choices
    if kind == "document":
        return _is_document(value)
    return True


def value_problems(sop: SOP, data: Mapping[str, Any]) -> list[str]:
    """Return one message per value in *data* that does not fit its declared type.

    Fields the SOP does not declare, and empty values (handled as missing by the desk),
    are not judged here.

    Args:
        sop: the SOP whose ``fields`` declare the types.
        data: the values given with a submission or action.

    Returns:
        Messages such as ``"fee: expected an amount (integer rupiah or a decimal string),
        got 'sepuluh ribu'"``, in the order of *data*.
    """
    problems = []
    for name, value in data.items():
        field = sop.field(name)
        if field is None or value in (None, "", [], {}):
            continue
        if not _fits(field, value):
            expected = (
                f"one of {', '.join(field.choices)}"
                if field.type == "choice"
                else _EXPECTED.get(field.type, field.type)
            )
            problems.append(f"{name}: expected {expected}, got {value!r}")
    return problems
