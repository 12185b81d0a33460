"""The machinery every entry builder uses: optional fields, layouts, derived kinds."""

import datetime as dt
import inspect
from typing import Any

import pytest

from pelayanan.audit import kinds
from pelayanan.audit.kinds._layout import EntryKind, Field, Layout, Presence, _optional


class TestOptional:
    @pytest.mark.parametrize("value", ["", {}, (), 0, "x", {"a": 1}])
    def test_only_none_is_left_out(self, value: Any) -> None:
        """By default a value is set unless it is None, even an empty one."""
        body: dict[str, Any] = {}
        _optional(body, "k", None)
        assert body == {}
        _optional(body, "k", value)
        assert body == {"k": value}

    @pytest.mark.parametrize("value", [None, "", {}, (), []])
    def test_skip_empty(self, value: Any) -> None:
        """With skip_empty, None and empty values are both left out."""
        body: dict[str, Any] = {}
        _optional(body, "k", value, skip_empty=True)
        assert body == {}

    def test_convert_applies_to_set_values_only(self) -> None:
        """The converter runs on a given value and never on an absent one."""
        body: dict[str, Any] = {}
        _optional(body, "k", None, dict)
        _optional(body, "m", (("a", 1),), dict)
        assert body == {"m": {"a": 1}}

    def test_keeps_insertion_order(self) -> None:
        """Fields are appended in call order, after what the body holds."""
        body: dict[str, Any] = {"first": 1}
        _optional(body, "b", 2)
        _optional(body, "a", 3)
        assert list(body) == ["first", "b", "a"]


class TestLayout:
    def test_builder_refuses_keywords_its_layout_does_not_fill(self) -> None:
        """A builder whose signature and layout disagree fails when it is defined."""
        layout = Layout("k", (Field("a", "an a."),))

        def wrong(*, at: dt.datetime, b: str) -> dict[str, Any]:
            return layout.build(locals())

        with pytest.raises(TypeError, match="wrong takes"):
            layout.builder(wrong)

    def test_builder_docstring_documents_every_keyword(self) -> None:
        """Every public builder's Args name each of its keywords, from the field declarations."""
        for name in kinds.__all__:
            if name.endswith("_body"):
                builder = getattr(kinds, name)
                doc = inspect.getdoc(builder) or ""
                for keyword in inspect.signature(builder).parameters:
                    assert f"\n    {keyword}: " in doc, f"{name} does not document {keyword}"

    def test_presence_rules(self) -> None:
        """Always, given, filled and fixed fields appear exactly by their rule."""
        layout = Layout(
            "k",
            (
                Field("a", "", convert=dict),
                Field("g", "", presence=Presence.GIVEN),
                Field("f", "", presence=Presence.FILLED),
                Field("x", "").fixed("v"),
            ),
        )
        at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        assert layout.build({"at": at, "a": None, "g": "", "f": ""}) == {
            "time": "2026-01-01T00:00:00.000000Z",
            "kind": "k",
            "a": None,
            "g": "",
            "x": "v",
        }
        assert layout.build({"at": at, "a": (("p", 1),), "g": None, "f": "y"})["a"] == {"p": 1}

    def test_kind_fields_derive_from_layouts(self) -> None:
        """A field every layout always carries is required; any other is optional."""
        one = Layout("k", (Field("a", ""), Field("b", "", presence=Presence.GIVEN)))
        two = Layout("k", (Field("a", ""), Field("c", "").fixed(1)))
        kind = EntryKind.of("m", one, two)
        assert (kind.required, kind.optional) == (("a",), ("b", "c"))
