"""A small validator for the JSON Schema subset the SOP schema uses, collecting every problem.

Supported keywords: ``type``, ``properties``, ``additionalProperties``, ``required``,
``propertyNames`` (``pattern``), ``minProperties``, ``maxProperties``, ``items``,
``minItems``, ``enum``, ``pattern``, ``minLength``, ``minimum``, ``maximum``, ``anyOf``
and local ``$ref``.  Problems are ``(key path, message)`` pairs whose paths use the
loader's notation (``states.received.final``, ``actions[2].roles``); unknown keys get a
"did you mean" suggestion.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pelayanan._config import suggest

__all__ = ["describe_type", "validate"]

_JSON_TYPES = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}
_PATTERNS: dict[str, re.Pattern[str]] = {}


def describe_type(value: object) -> str:
    """Return what *value* is, in the words of the messages (``a list``, ``text``...)."""
    for kind in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _is_type(value, kind):
            return _JSON_TYPES[kind]
    return type(value).__name__


def _is_type(value: object, kind: str) -> bool:
    if kind == "object":
        return isinstance(value, Mapping)
    if kind == "array":
        return isinstance(value, list | tuple)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "null":
        return value is None
    return True


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _pattern(text: str) -> re.Pattern[str]:
    compiled = _PATTERNS.get(text)
    if compiled is None:
        compiled = _PATTERNS[text] = re.compile(text)
    return compiled


class _Validator:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in schema:
            name = str(schema["$ref"]).rsplit("/", 1)[-1]
            schema = self.root["definitions"][name]
        return schema

    def check(
        self, value: Any, schema: Mapping[str, Any], path: str, out: list[tuple[str, str]]
    ) -> None:
        schema = self.resolve(schema)
        if "anyOf" in schema:
            self.any_of(value, schema, path, out)
            return
        kind = schema.get("type")
        if kind is not None:
            kinds = kind if isinstance(kind, list) else [kind]
            if not any(_is_type(value, str(k)) for k in kinds):
                expected = " or ".join(_JSON_TYPES[k] for k in kinds)
                hint = ""
                if "string" in kinds and _is_type(value, "number"):
                    hint = f"; quote it: '{value}'"
                out.append((path, f"must be {expected}, not {describe_type(value)}{hint}"))
                return
        if "enum" in schema and value not in schema["enum"]:
            allowed = ", ".join(repr(v) for v in schema["enum"])
            suggestion = suggest(str(value), [str(v) for v in schema["enum"]])
            out.append((path, f"must be one of {allowed}, not {value!r}{suggestion}"))
            return
        if isinstance(value, str):
            self.string(value, schema, path, out)
        elif _is_type(value, "number"):
            if "minimum" in schema and value < schema["minimum"]:
                out.append((path, f"must be at least {schema['minimum']}, not {value}"))
            if "maximum" in schema and value > schema["maximum"]:
                out.append((path, f"must be at most {schema['maximum']}, not {value}"))
        elif isinstance(value, Mapping):
            self.mapping(value, schema, path, out)
        elif isinstance(value, list | tuple):
            if len(value) < schema.get("minItems", 0):
                out.append((path, "must not be empty"))
            items = schema.get("items")
            if items is not None:
                for index, item in enumerate(value):
                    self.check(item, items, f"{path}[{index}]", out)

    def string(
        self, value: str, schema: Mapping[str, Any], path: str, out: list[tuple[str, str]]
    ) -> None:
        if len(value.strip()) < schema.get("minLength", 0):
            out.append((path, "must not be empty"))
        elif "pattern" in schema and not _pattern(schema["pattern"]).search(value):
            if schema["pattern"].startswith("^[a-z]"):
                message = f"{value!r} is not a valid name: use lower-case letters, digits and _"
            else:
                message = f"{value!r} does not have the expected form"
            out.append((path, message))

    def mapping(
        self,
        value: Mapping[Any, Any],
        schema: Mapping[str, Any],
        path: str,
        out: list[tuple[str, str]],
    ) -> None:
        properties: Mapping[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        names = schema.get("propertyNames")
        out.extend(
            (_join(path, key), "is required")
            for key in schema.get("required", ())
            if key not in value
        )
        if len(value) < schema.get("minProperties", 0):
            out.append((path, "must not be empty"))
        if len(value) > schema.get("maxProperties", len(value)):
            out.append((path, f"must have at most {schema['maxProperties']} key"))
        for key, item in value.items():
            if not isinstance(key, str):
                out.append((_join(path, str(key)), f"keys must be text, not {describe_type(key)}"))
                continue
            where = _join(path, key)
            if key in properties:
                self.check(item, properties[key], where, out)
                continue
            if names is not None and not _pattern(names["pattern"]).search(key):
                message = f"{key!r} is not a valid name: use lower-case letters, digits and _"
                out.append((where, message))
                continue
            if extra is False:
                suggestion = suggest(key, properties)
                allowed = ", ".join(properties)
                out.append((where, f"unknown key {key!r}{suggestion} (allowed: {allowed})"))
            elif isinstance(extra, Mapping):
                self.check(item, extra, where, out)

    def any_of(
        self, value: Any, schema: Mapping[str, Any], path: str, out: list[tuple[str, str]]
    ) -> None:
        fitting: list[list[tuple[str, str]]] = []
        for branch in schema["anyOf"]:
            resolved = self.resolve(branch)
            kind = resolved.get("type")
            if kind is not None and not any(
                _is_type(value, str(k)) for k in (kind if isinstance(kind, list) else [kind])
            ):
                continue
            found: list[tuple[str, str]] = []
            self.check(value, resolved, path, found)
            if not found:
                return
            fitting.append(found)
        if len(fitting) == 1:
            # Only one alternative has the value's type: its problems are the precise ones.
            out.extend(fitting[0])
            return
        expected = schema.get("x-expected", "another form")
        out.append((path, f"must be {expected}, not {describe_type(value)}"))


def validate(value: Any, schema: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return ``(key path, message)`` for every place *value* breaks *schema*."""
    out: list[tuple[str, str]] = []
    _Validator(schema).check(value, schema, "", out)
    return out
