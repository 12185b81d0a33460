"""The optional-field helper every entry builder uses."""

from typing import Any

import pytest

from pelayanan.audit.kinds._layout import _optional


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
