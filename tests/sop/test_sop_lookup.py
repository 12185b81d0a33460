"""The one name lookup behind `SOP.state` and `SOP.clock`."""

import pytest

from pelayanan.exceptions import UnknownNameError
from pelayanan.sop.model import _named


class TestNamed:
    def test_first_match_wins(self) -> None:
        """The first item with the wanted name is returned, in declaration order."""
        items = [("a", 1), ("b", 2), ("b", 3)]
        assert _named("state", items, "b", lambda item: item[0]) == ("b", 2)

    def test_missing_name(self) -> None:
        """A name no item has raises UnknownNameError (a KeyError) naming what was sought."""
        with pytest.raises(UnknownNameError) as info:
            _named("clock", [("a", 1)], "nope", lambda item: item[0])
        assert isinstance(info.value, KeyError)
        assert "clock" in str(info.value)
        assert "nope" in str(info.value)
