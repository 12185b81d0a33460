"""Ramadan hours applied by default: published dates, later years estimated."""

from __future__ import annotations

import datetime as dt
import warnings
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pelayanan.calendar import (
    RAMADAN_HOURS,
    calendar_from_config,
    indonesian_government_calendar,
    round_the_clock_calendar,
)
from pelayanan.calendar._ramadan import PUBLISHED_RAMADAN, default_ramadan, ramadan_on
from pelayanan.exceptions import CalendarError, EstimatedDateError, EstimatedDateWarning

WIB = ZoneInfo("Asia/Jakarta")
CAL = indonesian_government_calendar()


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=WIB)


class TestPublishedDates:
    def test_2026_dates(self) -> None:
        """Ramadan 1447 H runs from 19 February to 20 March 2026 (Idul Fitri 21 March)."""
        (period,) = default_ramadan(2026)
        assert (period.first, period.last, period.estimated) == (
            dt.date(2026, 2, 19),
            dt.date(2026, 3, 20),
            False,
        )
        assert "sidang isbat" in period.source

    def test_hours_in_force(self) -> None:
        """Inside Ramadan 2026 offices close 15:00 (Friday 15:30); outside at 16:00."""
        assert CAL.is_working_time(at(2026, 3, 5, 14, 59))
        assert not CAL.is_working_time(at(2026, 3, 5, 15, 0))
        assert CAL.is_working_time(at(2026, 3, 6, 15, 29))
        assert not CAL.is_working_time(at(2026, 3, 6, 15, 30))
        assert not CAL.is_working_time(at(2026, 3, 5, 7, 45))
        assert CAL.is_working_time(at(2026, 2, 18, 15, 30))
        assert CAL.is_working_time(at(2026, 3, 25, 15, 30))

    def test_friday_after_close_is_received_next_working_day(self) -> None:
        """A request at 15:45 on a Ramadan Friday counts as received Monday 08:00."""
        friday = at(2026, 3, 6, 15, 45)
        assert CAL.next_working_instant(friday) == at(2026, 3, 9, 8)
        assert CAL.add(friday, "1 working day").at == at(2026, 3, 10, 15)
        assert CAL.elapsed(friday, at(2026, 3, 9, 8)) == dt.timedelta(0)

    def test_week_is_32_and_a_half_hours(self) -> None:
        """A full Ramadan week is 32 h 30 min (MenPANRB circulars)."""
        assert CAL.elapsed(at(2026, 3, 2), at(2026, 3, 9)) == dt.timedelta(hours=32, minutes=30)

    def test_published_years_not_estimated(self) -> None:
        """Deadlines across a published Ramadan raise no estimate warning."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for period in PUBLISHED_RAMADAN.values():
                start = dt.datetime.combine(period.first, dt.time(10), tzinfo=WIB)
                assert CAL.add(start, "5 working days").estimated_dates == ()


class TestEstimatedYears:
    def test_later_year_computed_and_flagged(self) -> None:
        """2027 is computed from the package's Idul Fitri and its edges flagged estimated."""
        (period,) = default_ramadan(2027)
        assert period.estimated
        assert period.last == dt.date(2027, 3, 9)
        start = dt.datetime.combine(period.first - dt.timedelta(days=3), dt.time(10), tzinfo=WIB)
        with pytest.warns(EstimatedDateWarning):
            deadline = CAL.add(start, "5 working days")
        assert period.first in deadline.estimated_dates

    def test_strict_refuses_and_confirm_accepts(self) -> None:
        """Strict mode refuses an estimated edge until it is confirmed."""
        (period,) = default_ramadan(2027)
        edges = [period.first - dt.timedelta(days=1), period.first]
        start = dt.datetime.combine(period.first - dt.timedelta(days=3), dt.time(10), tzinfo=WIB)
        with pytest.raises(EstimatedDateError):
            indonesian_government_calendar(strict=True).add(start, "5 working days")
        confirmed = indonesian_government_calendar(strict=True, confirm_estimated=edges)
        assert confirmed.add(start, "5 working days").estimated_dates == ()

    def test_two_in_one_year(self) -> None:
        """A year with two Idul Fitri dates (2033) has two Ramadan periods."""
        periods = default_ramadan(2033)
        assert len(periods) == 2
        assert ramadan_on(dt.date(2032, 12, 10)) == periods[0]

    def test_years_before_table_have_none(self) -> None:
        """Years before the published table get no default (configure a period)."""
        assert default_ramadan(2020) == ()
        assert CAL.is_working_time(at(2023, 4, 3, 15, 30))


class TestChoosing:
    def test_none_switches_off(self) -> None:
        """ramadan='none' keeps the regular hours."""
        cal = indonesian_government_calendar(ramadan="none")
        assert cal.is_working_time(at(2026, 3, 5, 15, 30))

    def test_explicit_period_replaces_default_that_year(self) -> None:
        """A configured period replaces the default in the year it overlaps."""
        cal = indonesian_government_calendar(ramadan=[(dt.date(2026, 2, 18), dt.date(2026, 3, 17))])
        assert cal.is_working_time(at(2026, 2, 18, 14, 30))
        assert not cal.is_working_time(at(2026, 2, 18, 15, 30))
        assert not cal.is_working_time(at(2026, 3, 18, 10))  # cuti bersama
        assert cal.ramadan_default

    def test_unknown_word_refused(self) -> None:
        """An unknown ramadan word is a CalendarError naming the choices."""
        with pytest.raises(CalendarError, match="'default', 'none'"):
            indonesian_government_calendar(ramadan="auto")  # type: ignore[arg-type]

    def test_round_the_clock_ignores_ramadan(self) -> None:
        """The round-the-clock calendar counts every instant, in Ramadan too."""
        assert round_the_clock_calendar().is_working_time(at(2026, 3, 6, 23, 59))

    def test_config(self) -> None:
        """Config: default without own hours, off with own hours, explicit either way."""
        assert calendar_from_config({}).ramadan_default
        own = {"hours": {"saturday": ["08:00-12:00"]}}
        assert not calendar_from_config(own).ramadan_default
        assert calendar_from_config({**own, "ramadan": "default"}).ramadan_default
        assert not calendar_from_config({"ramadan": "none"}).ramadan_default
        with pytest.raises(CalendarError, match="ramadan"):
            calendar_from_config({"ramadan": "yes"})
        assert calendar_from_config(CAL.to_config()) == CAL

    def test_fingerprint_pins_dates(self) -> None:
        """The fingerprint differs with and without default Ramadan hours."""
        off = indonesian_government_calendar(ramadan="none")
        assert CAL.fingerprint_for([2026]) != off.fingerprint_for([2026])


class TestProperties:
    @settings(max_examples=60, deadline=None)
    @given(day=st.dates(min_value=dt.date(2026, 2, 19), max_value=dt.date(2026, 3, 20)))
    def test_ramadan_days_use_ramadan_hours(self, day: dt.date) -> None:
        """Every working day of Ramadan 2026 is worked exactly under RAMADAN_HOURS."""
        start = dt.datetime.combine(day, dt.time(0), tzinfo=WIB)
        worked = CAL.elapsed(start, start + dt.timedelta(days=1), warn_estimated=False)
        expected = sum(r.end - r.start for r in RAMADAN_HOURS[day.weekday()])
        assert worked in (dt.timedelta(0), dt.timedelta(minutes=expected))
