"""The machinery of the vocabulary: a field's rule, a body's layout, and one builder for all.

A `Layout` lists, in order, the `Field` rules of one shape of body (a kind has one layout,
or two when it records two shapes of the same event).  `Layout.build` is the one place a
body is assembled; `EntryKind.of` derives what a kind always and sometimes carries from
its layouts, so a field is declared once and both the builders and the documentation
follow from it.
"""

from __future__ import annotations

import datetime as dt
import enum
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from pelayanan.audit.entry import format_time
from pelayanan.audit.kinds._names import KIND, TIME

_F = TypeVar("_F", bound=Callable[..., dict[str, Any]])

#: The builder keyword every layout takes: the instant the entry is recorded.
AT = "at"


def _optional(
    body: dict[str, Any],
    key: str,
    value: Any,
    convert: Callable[[Any], Any] = lambda value: value,
    *,
    skip_empty: bool = False,
) -> None:
    """Set ``body[key]`` to ``convert(value)`` unless *value* is absent.

    Args:
        body: the body being built.
        key: the field name.
        value: the field's value, ``None`` when not given.
        convert: makes the value JSON-ready (a copy as ``dict`` or ``list``).
        skip_empty: leave the field out for an empty value too (``""``, ``{}``, ``()``).
    """
    if value is None or (skip_empty and not value):
        return
    body[key] = convert(value)


def _as_is(value: Any) -> Any:
    return value


def dicts(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return *items* as a list of plain dicts."""
    return [dict(item) for item in items]


def plain(value: Any) -> Any:
    """Return *value* with a mapping copied as a plain dict, anything else as it is."""
    return dict(value) if isinstance(value, Mapping) else value


def pairs(value: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """Return a mapping of mappings as plain dicts."""
    return {name: dict(pair) for name, pair in value.items()}


def when(value: dt.datetime) -> str:
    """Return an instant in the entry time format."""
    return format_time(value)


class Presence(enum.Enum):
    """When a field appears in a body."""

    #: Always, ``None`` included.
    ALWAYS = "always"
    #: Left out when ``None``.
    GIVEN = "given"
    #: Left out when ``None`` or empty.
    FILLED = "filled"
    #: Left out by the builder when ``None``, because the writer adds it: always in the log.
    ADDED = "added"
    #: Always, with the layout's fixed value; no keyword.
    FIXED = "fixed"


@attrs.frozen
class Field:
    """One field of a body: its name, the builder keyword that fills it, and its rule.

    Attributes:
        key: the field's name in the entry.
        doc: what the builder keyword means, for its docstring.
        convert: makes a given value JSON-ready; never called on ``None``.
        presence: when the field appears.
        param: the builder keyword (the key when empty).
        value: the value of a `Presence.FIXED` field.
    """

    key: str
    doc: str
    convert: Callable[[Any], Any] = _as_is
    presence: Presence = Presence.ALWAYS
    param: str = ""
    value: Any = None

    @property
    def keyword(self) -> str:
        """Return the builder keyword that fills the field."""
        return self.param or self.key

    @property
    def always(self) -> bool:
        """Return whether every entry of the layout carries the field."""
        return self.presence in (Presence.ALWAYS, Presence.ADDED, Presence.FIXED)

    def but(self, **changes: Any) -> Field:
        """Return this field with *changes* (a different doc, keyword or presence)."""
        return attrs.evolve(self, **changes)

    def fixed(self, value: Any) -> Field:
        """Return this field holding *value* in every entry, with no keyword."""
        return attrs.evolve(self, presence=Presence.FIXED, value=value)


@attrs.frozen
class Layout:
    """One shape of body: its kind and its fields in order.

    Attributes:
        kind: the value of the body's ``kind``.
        fields: the fields after ``time`` and ``kind``, in the order they are set.
        at: what the ``at`` keyword means.
        returns: what the builder returns, for its docstring.
    """

    kind: str
    fields: tuple[Field, ...]
    at: str = "when it was recorded."
    returns: str = "The JSON-ready body."
    # Each field's rule unpacked once, for `build` (a body is built on every append).
    _rules: tuple[tuple[str, str, Callable[[Any], Any] | None, Presence, Any], ...] = attrs.field(
        init=False, repr=False, eq=False
    )

    def __attrs_post_init__(self) -> None:
        """Unpack the fields' rules for `build`."""
        rules = tuple((f.key, f.keyword, f.convert, f.presence, f.value) for f in self.fields)
        object.__setattr__(self, "_rules", rules)

    @property
    def keywords(self) -> tuple[str, ...]:
        """Return the builder keywords: ``at``, then one per field that is not fixed."""
        return (AT, *(f.keyword for f in self.fields if f.presence is not Presence.FIXED))

    def build(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Return the body for the builder's keyword *values*.

        Args:
            values: every keyword of `keywords`, by name.

        Returns:
            ``time`` and ``kind``, then each field by its rule, JSON-ready.
        """
        body: dict[str, Any] = {TIME: format_time(values[AT]), KIND: self.kind}
        for key, keyword, convert, presence, fixed in self._rules:
            if presence is Presence.FIXED:
                body[key] = fixed
                continue
            value = values[keyword]
            if value is None:
                if presence is Presence.ALWAYS:
                    body[key] = None
            elif value or presence is not Presence.FILLED:
                body[key] = value if convert is None else convert(value)
        return body

    def builder(self, function: _F) -> _F:
        """Check that *function* takes this layout's keywords and document them.

        The function's own docstring is its summary; the ``Args`` and ``Returns`` sections
        are written from the fields, so each field is described in one place.

        Args:
            function: a builder whose body is ``return LAYOUT.build(locals())``.

        Returns:
            The function, its docstring completed.

        Raises:
            TypeError: its keywords are not the layout's.
        """
        taken = tuple(inspect.signature(function).parameters)
        if set(taken) != set(self.keywords):
            msg = f"{function.__name__} takes {taken}; its layout fills {self.keywords}"
            raise TypeError(msg)
        docs = {AT: self.at, **{f.keyword: f.doc for f in self.fields}}
        args = "".join(f"\n        {name}: {docs[name]}" for name in taken)
        summary = (function.__doc__ or "").rstrip()
        function.__doc__ = f"{summary}\n\n    Args:{args}\n\n    Returns:\n        {self.returns}\n"
        return function


@attrs.frozen
class EntryKind:
    """One kind of audit entry: its name, its fields and what it records.

    Attributes:
        name: the value of the entry's ``kind`` field.
        meaning: what such an entry records, in one line.
        required: the fields every entry of the kind carries (besides ``time`` and ``kind``).
        optional: the fields it carries only in some cases.
        layouts: the shapes of body its builders write.
    """

    name: str
    meaning: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    layouts: tuple[Layout, ...] = attrs.field(default=(), repr=False)

    @property
    def fields(self) -> tuple[str, ...]:
        """Return every field the kind may carry besides ``time`` and ``kind``."""
        return self.required + self.optional

    @classmethod
    def of(cls, meaning: str, *layouts: Layout) -> EntryKind:
        """Return the kind its *layouts* write, with the fields derived from them.

        A field is required when every layout carries it always; the others are optional.
        Both keep the order in which the layouts first name them.

        Args:
            meaning: what such an entry records, in one line.
            layouts: the kind's layouts (at least one, all of the same kind).

        Returns:
            The kind.
        """
        always = set.intersection(*({f.key for f in lay.fields if f.always} for lay in layouts))
        named = list(dict.fromkeys(f.key for lay in layouts for f in lay.fields))
        return cls(
            layouts[0].kind,
            meaning,
            tuple(k for k in named if k in always),
            tuple(k for k in named if k not in always),
            layouts,
        )
