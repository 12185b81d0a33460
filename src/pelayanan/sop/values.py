"""Check request data against the field types an SOP declares.

The SOP's ``fields`` section gives each field a type (`FIELD_TYPES`).  Values travel in
canonical JSON entries, which hold no floats, so decimal quantities (``number``,
``money``) are integers or decimal strings.  A document (kelengkapan berkas) is a
reference to a filed document: a non-empty string, or a mapping with a non-empty ``id``.

Messages name the field and what is wrong with its value, never the value itself: a
refusal is recorded in the audit log forever, and the value may be a NIK or a name.

Data entering a request is bounded (`MAX_FIELDS`, `MAX_FIELD_NAME_LENGTH`,
`MAX_TEXT_LENGTH`, `MAX_ITEMS`, `MAX_DEPTH`), whether the SOP declares the field or not,
so that an oversized or deeply nested value is a typed refusal rather than a
``RecursionError`` or megabytes kept forever in the log.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from typing import Any

from pelayanan.exceptions import FieldNotAllowedError
from pelayanan.sop.model import SOP, ActionDef, FieldDef

__all__ = [
    "MAX_DEPTH",
    "MAX_FIELDS",
    "MAX_FIELD_NAME_LENGTH",
    "MAX_ITEMS",
    "MAX_TEXT_LENGTH",
    "check_writes",
    "describe_value",
    "limit_problems",
    "value_problems",
]

#: The most fields one submission or action may carry.
MAX_FIELDS = 200
#: The longest field name, in characters.
MAX_FIELD_NAME_LENGTH = 128
#: The longest text anywhere in a field value (a string, or a string inside a list or
#: mapping), in characters.
MAX_TEXT_LENGTH = 10_000
#: The most items (list elements and mapping members, all levels together) in one value.
MAX_ITEMS = 1_000
#: The deepest nesting of lists and mappings in one value (a plain value has depth 0).
MAX_DEPTH = 8


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


_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "true or false"),
    (int, "an integer"),
    (float, "a floating-point number"),
    (Mapping, "a mapping"),
    (list, "a list"),
    (tuple, "a list"),
)


def describe_value(value: Any) -> str:
    """Return what kind of value *value* is, without showing it (``"an integer"``).

    Refusal messages use this instead of the value, which may be personal data.
    """
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"text of {len(value)} characters"
    for kind, words in _KINDS:
        if isinstance(value, kind):
            return words
    return f"a {type(value).__name__} object"


def _shape_problem(value: Any) -> str | None:
    """Return what exceeds a limit in *value* (walked without recursion), or ``None``."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    items = 0
    while stack:
        current, depth = stack.pop()
        if isinstance(current, str):
            if len(current) > MAX_TEXT_LENGTH:
                return (
                    f"text of {len(current)} characters is longer than the limit "
                    f"MAX_TEXT_LENGTH ({MAX_TEXT_LENGTH})"
                )
            continue
        if isinstance(current, Mapping):
            children = [*current.keys(), *current.values()]
            items += len(current)
        elif isinstance(current, list | tuple):
            children = list(current)
            items += len(current)
        else:
            continue
        if depth + 1 > MAX_DEPTH:
            return f"nested deeper than the limit MAX_DEPTH ({MAX_DEPTH})"
        if items > MAX_ITEMS:
            return f"holds more than the limit MAX_ITEMS ({MAX_ITEMS}) items"
        stack.extend((child, depth + 1) for child in children)
    return None


def limit_problems(data: Mapping[Any, Any]) -> list[str]:
    """Return one message per field of *data* that exceeds a size or depth limit.

    Every field is judged, declared by the SOP or not.  Messages name the field and the
    limit (``"nik: text of 20000 characters is longer than the limit MAX_TEXT_LENGTH
    (10000)"``), never the value.

    Args:
        data: the values given with a submission or action.

    Returns:
        The messages; empty when every field is within the limits.
    """
    if len(data) > MAX_FIELDS:
        return [f"$: {len(data)} fields are more than the limit MAX_FIELDS ({MAX_FIELDS})"]
    problems = []
    for index, (name, value) in enumerate(data.items()):
        if not isinstance(name, str):
            problems.append(f"$[{index}]: a field name must be text, got {describe_value(name)}")
            continue
        if len(name) > MAX_FIELD_NAME_LENGTH:
            problems.append(
                f"$[{index}]: a field name of {len(name)} characters is longer than the "
                f"limit MAX_FIELD_NAME_LENGTH ({MAX_FIELD_NAME_LENGTH})"
            )
            continue
        shape = _shape_problem(value)
        if shape is not None:
            problems.append(f"{name}: {shape}")
    return problems


def value_problems(sop: SOP, data: Mapping[str, Any]) -> list[str]:
    """Return one message per value in *data* that does not fit its declared type.

    Every field is first held to the size and depth limits (`limit_problems`); then
    fields the SOP does not declare, and empty values (handled as missing by the desk),
    are not judged further.

    Args:
        sop: the SOP whose ``fields`` declare the types.
        data: the values given with a submission or action.

    Returns:
        Messages such as ``"fee: expected an amount (integer rupiah or a decimal string),
        got text of 12 characters"``, in the order of *data*; they never quote a value.
    """
    problems = limit_problems(data)
    if problems:
        return problems
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
            problems.append(f"{name}: expected {expected}, got {describe_value(value)}")
    return problems


def check_writes(sop: SOP, spec: ActionDef | None, action: str, fields: Mapping[str, Any]) -> None:
    """Refuse fields the SOP does not declare (strict mode), then fields *spec* may not write.

    Args:
        sop: the request's SOP.
        spec: the action taken (``None``: the submission, which writes any declared field).
        action: the action's name, for the message.
        fields: the data given.

    Raises:
        FieldNotAllowedError: names the refused fields, never their values.
    """
    undeclared = sop.undeclared(fields)
    if undeclared:
        hint = "declare them under fields, or check their spelling"
        raise FieldNotAllowedError(action, undeclared, rule="fields:undeclared", hint=hint)
    if spec is None:
        return
    outside = sorted(name for name in fields if not spec.may_write(name))
    if outside:
        hint = f"action {action!r} writes only {', '.join(spec.writes or ()) or 'no field'}"
        raise FieldNotAllowedError(action, outside, rule="fields:writes", hint=hint)
