"""The Indonesian holiday data is the holidays package's, loaded without its other countries."""

from __future__ import annotations

import holidays
import pytest

from pelayanan.calendar._holidays import _LANGUAGE, HOLIDAYS_VERSION, _indonesia, holiday_entries


class TestIndonesiaOnly:
    @pytest.mark.parametrize("year", [2000, 2019, 2024, 2026, 2027, 2034, 2049])
    @pytest.mark.parametrize("category", ["public", "government"])
    def test_same_holidays_as_the_registry(self, year: int, category: str) -> None:
        """The class loaded alone gives what ``holidays.country_holidays("ID")`` gives."""
        ours = _indonesia()(categories=(category,), years=year, language=_LANGUAGE)
        theirs = holidays.country_holidays(
            "ID", categories=(category,), years=year, language=_LANGUAGE
        )
        assert dict(ours) == dict(theirs)
        assert ours.tr(ours.estimated_label) == theirs.tr(theirs.estimated_label)

    def test_entries_cover_both_categories(self) -> None:
        """A year's entries hold national holidays and cuti bersama."""
        categories = {entry.category for entry in holiday_entries(2026)}
        assert categories == {"public", "government"}

    def test_version_is_the_distribution_version(self) -> None:
        """The version in sources and fingerprints is the installed distribution's."""
        from importlib.metadata import version

        assert version("holidays") == HOLIDAYS_VERSION
