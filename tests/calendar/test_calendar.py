"""Tests for pelayanan.calendar: working calendars and duration arithmetic.

Expected deadlines are checked by hand against the 2026 SKB dates (cuti bersama 16 Feb;
18, 20, 23, 24 Mar; 15 May; 28 May; 24 Dec) and the default hours (Mon-Thu close 16:00,
Fri close 16:30).
"""

from __future__ import annotations

import copy
import datetime as dt
import pickle
import warnings
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pelayanan.calendar import (
    DEFAULT_HOURS,
    RAMADAN_HOURS,
    Closure,
    Counting,
    Duration,
    ExtraWorkingDay,
    HolidayOverride,
    TimeRange,
    WorkCalendar,
    calendar_from_config,
    indonesian_government_calendar,
    ramadan_period,
    round_the_clock_calendar,
)
from pelayanan.calendar._holidays import holiday_entries
from pelayanan.exceptions import CalendarError, EstimatedDateError, EstimatedDateWarning

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
WIT = ZoneInfo("Asia/Jayapura")
CAL = indonesian_government_calendar()
CAL_CUTI_WORKING = indonesian_government_calendar(cuti_bersama_working=True)
US = dt.timedelta(microseconds=1)


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, tz: ZoneInfo = WIB) -> dt.datetime:
    """Return an aware local datetime."""
    return dt.datetime(y, mo, d, h, mi, tzinfo=tz)


def deadline(cal: WorkCalendar, start: dt.datetime, duration: str) -> dt.datetime:
    """Return the deadline instant of *duration* from *start*."""
    return cal.add(start, duration).at


class TestDefaults:
    def test_week_is_37_5_hours(self) -> None:
        """The default week has 37 h 30 min of working time (Perpres 21/2023)."""
        week = CAL.elapsed(at(2026, 7, 6), at(2026, 7, 13))
        assert week == dt.timedelta(hours=37, minutes=30)
        assert sum(r.seconds for day in DEFAULT_HOURS for r in day) == 37.5 * 3600

    def test_ramadan_week_is_32_5_hours(self) -> None:
        """Ramadan hours give 32 h 30 min a week starting 08:00."""
        assert sum(r.seconds for day in RAMADAN_HOURS for r in day) == 32.5 * 3600
        assert all(day[0].start == 8 * 60 for day in RAMADAN_HOURS if day)

    def test_day_starts_0730_and_breaks(self) -> None:
        """Work starts 07:30; breaks are 12:00-13:00 Mon-Thu and 11:30-13:00 Friday."""
        assert CAL.is_working_time(at(2026, 7, 6, 7, 30))
        assert not CAL.is_working_time(at(2026, 7, 6, 7, 29))
        assert not CAL.is_working_time(at(2026, 7, 6, 12, 30))
        assert CAL.is_working_time(at(2026, 7, 10, 11, 29))
        assert not CAL.is_working_time(at(2026, 7, 10, 12, 30))
        assert CAL.is_working_time(at(2026, 7, 10, 16, 15))
        assert not CAL.is_working_time(at(2026, 7, 9, 16, 15))
        assert not CAL.is_working_time(at(2026, 7, 11, 10))

    def test_unknown_zone_refused(self) -> None:
        """An unknown IANA zone is a CalendarError naming the key."""
        with pytest.raises(CalendarError, match=r"^timezone: unknown IANA time zone"):
            indonesian_government_calendar("Asia/Atlantis")


class TestWorkingDays:
    def test_three_days_from_tuesday_end_friday_close(self) -> None:
        """Day of receipt is day 0: 3 working days from Tue 10:00 end at Fri 16:30."""
        assert deadline(CAL, at(2026, 7, 7, 10), "3 working days") == at(2026, 7, 10, 16, 30)

    def test_after_hours_counts_from_next_day(self) -> None:
        """A request received after close counts from the next working day."""
        assert deadline(CAL, at(2026, 7, 7, 17), "3 working days") == at(2026, 7, 13, 16)

    def test_before_opening_counts_same_day(self) -> None:
        """A request received before opening is day 0 of that same day."""
        assert deadline(CAL, at(2026, 7, 7, 6), "3 working days") == at(2026, 7, 10, 16, 30)

    def test_weekend_receipt(self) -> None:
        """A request received on Saturday has Monday as day 0."""
        assert deadline(CAL, at(2026, 7, 11, 10), "1 working day") == at(2026, 7, 14, 16)

    def test_zero_days_is_close_of_receipt_day(self) -> None:
        """0 working days end at the close of the day of receipt."""
        assert deadline(CAL, at(2026, 7, 7, 10), "0 working days") == at(2026, 7, 7, 16)

    def test_lebaran_2026(self) -> None:
        """Cuti bersama 18, 20, 23, 24 Mar and holidays 19, 21, 22 Mar are skipped."""
        assert deadline(CAL, at(2026, 3, 17, 10), "1 working day") == at(2026, 3, 25, 16)
        assert deadline(CAL, at(2026, 3, 16, 10), "3 working days") == at(2026, 3, 26, 16)
        assert deadline(CAL, at(2026, 3, 18, 10), "0 working days") == at(2026, 3, 25, 16)

    def test_lebaran_2026_cuti_bersama_working(self) -> None:
        """With cuti bersama as working days only 19, 21, 22 Mar are off (Ramadan hours
        until 20 Mar: close at 15:00, 15:30 on Friday)."""
        cal = CAL_CUTI_WORKING
        assert deadline(cal, at(2026, 3, 17, 10), "1 working day") == at(2026, 3, 18, 15)
        assert deadline(cal, at(2026, 3, 17, 10), "2 working days") == at(2026, 3, 20, 15, 30)
        assert deadline(cal, at(2026, 3, 17, 10), "3 working days") == at(2026, 3, 23, 16)

    @pytest.mark.parametrize(
        ("start", "expected"),
        [
            # Fri 13 Feb; Mon 16 cuti bersama, Tue 17 Lunar New Year.
            (at(2026, 2, 13, 10), at(2026, 2, 18, 16)),
            # Wed 13 May; Thu 14 Ascension, Fri 15 cuti bersama.
            (at(2026, 5, 13, 10), at(2026, 5, 18, 16)),
            # Tue 26 May; Wed 27 Eid al-Adha, Thu 28 cuti bersama.
            (at(2026, 5, 26, 10), at(2026, 5, 29, 16, 30)),
            # Wed 23 Dec; Thu 24 cuti bersama, Fri 25 Christmas.
            (at(2026, 12, 23, 10), at(2026, 12, 28, 16)),
        ],
    )
    def test_other_cuti_bersama_2026(self, start: dt.datetime, expected: dt.datetime) -> None:
        """1 working day skips the 2026 cuti bersama and their holidays."""
        assert deadline(CAL, start, "1 working day") == expected

    def test_year_boundary(self) -> None:
        """Counting crosses into the next year (1 Jan and 5 Jan 2027 are holidays)."""
        assert deadline(CAL, at(2026, 12, 30, 10), "3 working days") == at(2027, 1, 6, 16)

    def test_receipt_day_one_convention(self) -> None:
        """With receipt-day-one, 3 working days from Tue 10:00 end at Thu close."""
        cal = indonesian_government_calendar(counting=Counting.RECEIPT_DAY_ONE)
        assert deadline(cal, at(2026, 7, 7, 10), "3 working days") == at(2026, 7, 9, 16)
        assert deadline(cal, at(2026, 7, 7, 10), "0 working days") == at(2026, 7, 7, 16)


class TestWorkingHours:
    def test_hours_cross_break(self) -> None:
        """Working hours skip the lunch break."""
        assert deadline(CAL, at(2026, 7, 6, 11), "2 working hours") == at(2026, 7, 6, 14)

    def test_friday_hours(self) -> None:
        """Friday's 11:30-13:00 break and 16:30 close apply."""
        assert deadline(CAL, at(2026, 7, 10, 11), "1 working hour") == at(2026, 7, 10, 13, 30)
        assert deadline(CAL, at(2026, 7, 10, 16), "1 working hour") == at(2026, 7, 13, 8)

    def test_hours_across_lebaran(self) -> None:
        """Working hours jump over the Lebaran holidays and cuti bersama.

        17 March is in Ramadan (closing 15:00), so both hours fall after Lebaran.
        """
        assert deadline(CAL, at(2026, 3, 17, 15), "2 working hours") == at(2026, 3, 25, 9, 30)

    def test_exact_end_of_interval(self) -> None:
        """A deadline landing on the end of working time is that end, not the next opening."""
        assert deadline(CAL, at(2026, 7, 6, 11), "1 working hour") == at(2026, 7, 6, 12)
        assert deadline(CAL, at(2026, 7, 6, 15), "1 working hour") == at(2026, 7, 6, 16)

    def test_minutes(self) -> None:
        """Fractional hours are consumed minute-accurately."""
        assert deadline(CAL, at(2026, 7, 6, 11, 45), "0.5 working hours") == at(2026, 7, 6, 13, 15)

    def test_zero_hours_returns_start(self) -> None:
        """Adding zero working hours returns the start itself."""
        start = at(2026, 7, 6, 12, 30)
        assert deadline(CAL, start, "0 working hours") == start

    def test_elapsed_is_antisymmetric(self) -> None:
        """elapsed(b, a) == -elapsed(a, b)."""
        a, b = at(2026, 7, 6, 10), at(2026, 7, 8, 9)
        assert CAL.elapsed(a, b) == dt.timedelta(hours=5 + 7.5 + 1.5)
        assert CAL.elapsed(b, a) == -CAL.elapsed(a, b)

    def test_elapsed_over_years(self) -> None:
        """A 2026 working year is 52 weeks plus one Thursday, less 7.5 h per weekday off
        (on a calendar without Ramadan hours)."""
        cal = indonesian_government_calendar(ramadan="none")
        year = cal.elapsed(at(2026, 1, 1), at(2027, 1, 1))
        off = [d for d in cal.non_working_days(2026, weekends=False) if d.date.weekday() < 5]
        assert year == dt.timedelta(hours=52 * 37.5 + 7.5 - 7.5 * len(off))
        assert CAL.elapsed(at(2025, 12, 31, 15), at(2026, 1, 2, 8)) == dt.timedelta(hours=1.5)


class TestCalendarDurations:
    def test_calendar_days_keep_wall_clock(self) -> None:
        """Calendar days move the local date, holidays or not."""
        assert deadline(CAL, at(2026, 3, 17, 10), "7 calendar days") == at(2026, 3, 24, 10)

    def test_calendar_hours(self) -> None:
        """Calendar hours add elapsed time."""
        assert deadline(CAL, at(2026, 7, 7, 10), "30 calendar hours") == at(2026, 7, 8, 16)


class TestZones:
    def test_wita_and_wit(self) -> None:
        """Deadlines follow the calendar's own zone and come back in it."""
        wita = indonesian_government_calendar("Asia/Makassar")
        wit = indonesian_government_calendar("Asia/Jayapura")
        assert deadline(wita, at(2026, 7, 7, 10, tz=WITA), "3 working days") == at(
            2026, 7, 10, 16, 30, tz=WITA
        )
        result = wit.add(dt.datetime(2026, 7, 7, 1, tzinfo=dt.UTC), "3 working days").at
        assert result.tzinfo == WIT
        assert result.utcoffset() == dt.timedelta(hours=9)
        assert result == at(2026, 7, 10, 16, 30, tz=WIT)

    def test_same_instant_differs_by_zone(self) -> None:
        """08:30 UTC is working time in WIB (15:30) but after hours in WIT (17:30)."""
        instant = dt.datetime(2026, 7, 7, 8, 30, tzinfo=dt.UTC)
        wit = indonesian_government_calendar("Asia/Jayapura")
        assert deadline(CAL, instant, "1 working day") == at(2026, 7, 8, 16)
        assert deadline(wit, instant, "1 working day") == at(2026, 7, 9, 16, tz=WIT)

    def test_naive_refused(self) -> None:
        """A naive start is a CalendarError."""
        with pytest.raises(CalendarError, match="timezone-aware"):
            CAL.add(dt.datetime(2026, 7, 7, 10), "1 working day")


class TestSpecialPeriods:
    RAMADAN = indonesian_government_calendar(ramadan=[(dt.date(2026, 2, 19), dt.date(2026, 3, 17))])

    def test_ramadan_hours_apply(self) -> None:
        """Inside Ramadan the day is 08:00-15:00 with a 12:00-12:30 break."""
        cal = self.RAMADAN
        assert not cal.is_working_time(at(2026, 3, 2, 7, 45))
        assert cal.is_working_time(at(2026, 3, 2, 12, 45))
        assert deadline(cal, at(2026, 3, 2, 14), "2 working hours") == at(2026, 3, 3, 9)
        assert deadline(cal, at(2026, 3, 3, 10), "1 working day") == at(2026, 3, 4, 15)
        assert deadline(cal, at(2026, 3, 5, 10), "1 working day") == at(2026, 3, 6, 15, 30)
        assert cal.elapsed(at(2026, 3, 2), at(2026, 3, 9)) == dt.timedelta(hours=32.5)

    def test_regular_hours_after_ramadan(self) -> None:
        """After the configured range the default hours return."""
        assert deadline(self.RAMADAN, at(2026, 3, 17, 10), "1 working day") == at(2026, 3, 25, 16)

    def test_overlapping_periods_refused(self) -> None:
        """Two special periods may not overlap."""
        with pytest.raises(CalendarError, match=r"special_periods\[1\]"):
            WorkCalendar(
                special_periods=(
                    ramadan_period(dt.date(2026, 2, 19), dt.date(2026, 3, 17)),
                    ramadan_period(dt.date(2026, 3, 1), dt.date(2026, 3, 30)),
                )
            )


class TestAgencyDays:
    def test_closure(self) -> None:
        """An agency closure is non-working and listed with its reason."""
        cal = indonesian_government_calendar(closures=[Closure(dt.date(2026, 7, 8), "Pilkada")])
        assert deadline(cal, at(2026, 7, 7, 10), "1 working day") == at(2026, 7, 9, 16)
        listed = {d.date: (d.name, d.source) for d in cal.non_working_days(2026)}
        assert listed[dt.date(2026, 7, 8)] == ("Pilkada", "agency closure")

    def test_extra_working_day(self) -> None:
        """An extra working day (even on a cuti bersama) counts, with given hours."""
        cal = indonesian_government_calendar(
            extra_working_days=[
                ExtraWorkingDay(dt.date(2026, 3, 18)),
                ExtraWorkingDay(dt.date(2026, 7, 11), (TimeRange.parse("08:00-12:00"),)),
            ]
        )
        assert deadline(cal, at(2026, 3, 17, 10), "1 working day") == at(2026, 3, 18, 15)
        assert deadline(cal, at(2026, 7, 10, 10), "1 working day") == at(2026, 7, 11, 12)

    def test_extra_day_without_hours_on_weekend_refused(self) -> None:
        """An extra Saturday needs hours: the weekday has none."""
        with pytest.raises(CalendarError, match=r"extra_working_days\[0\].*give hours"):
            indonesian_government_calendar(
                extra_working_days=[ExtraWorkingDay(dt.date(2026, 7, 11))]
            )

    def test_closed_and_worked_refused(self) -> None:
        """A date cannot be both closed and an extra working day."""
        day = dt.date(2026, 7, 8)
        with pytest.raises(CalendarError, match="also closures"):
            indonesian_government_calendar(
                closures=[Closure(day)], extra_working_days=[ExtraWorkingDay(day)]
            )


class TestNonWorkingDays:
    def test_sources(self) -> None:
        """Holidays and cuti bersama name the package version and category."""
        days = {d.date: d for d in CAL.non_working_days(2026, weekends=False)}
        cuti = [d for d in days.values() if "cuti bersama" in d.source]
        assert [d.date for d in cuti] == [
            dt.date(2026, 2, 16),
            dt.date(2026, 3, 18),
            dt.date(2026, 3, 20),
            dt.date(2026, 3, 23),
            dt.date(2026, 3, 24),
            dt.date(2026, 5, 15),
            dt.date(2026, 5, 28),
            dt.date(2026, 12, 24),
        ]
        assert days[dt.date(2026, 3, 21)].source.endswith("(public)")
        assert "Joint Holiday" in days[dt.date(2026, 3, 20)].name

    def test_weekends_optional(self) -> None:
        """Weekends are listed with source 'weekend' unless excluded."""
        all_days = CAL.non_working_days(2026)
        assert any(d.source == "weekend" for d in all_days)
        assert not any(d.source == "weekend" for d in CAL.non_working_days(2026, weekends=False))

    def test_cuti_bersama_working_not_listed(self) -> None:
        """With cuti bersama working they are not non-working days."""
        days = CAL_CUTI_WORKING.non_working_days(2026, weekends=False)
        assert not any("cuti bersama" in d.source for d in days)


class TestEstimatedDates:
    START = at(2027, 3, 1, 10)

    def test_package_flags_estimates(self) -> None:
        """2027 Eid al-Fitr is estimated; a date that also holds a fixed holiday is not."""
        entries = {e.date: e for e in holiday_entries(2027)}
        assert entries[dt.date(2027, 3, 10)].estimated
        assert not entries[dt.date(2027, 8, 17)].estimated
        mixed = {e.date: e for e in holiday_entries(2034)}[dt.date(2034, 6, 1)]
        assert "(estimated)" in mixed.name
        assert not mixed.estimated

    def test_warns_and_flags(self) -> None:
        """Crossing an estimated date warns and flags the deadline."""
        with pytest.warns(EstimatedDateWarning, match="2027-03-10"):
            result = CAL.add(self.START, "20 working days")
        assert result.estimated_dates == (dt.date(2027, 3, 10), dt.date(2027, 3, 11))
        assert result.is_estimated
        assert result.at == at(2027, 4, 8, 16)

    def test_elapsed_warns(self) -> None:
        """Measuring across an estimated date warns too."""
        with pytest.warns(EstimatedDateWarning):
            CAL.elapsed(self.START, at(2027, 3, 20))

    def test_strict_refuses(self) -> None:
        """Strict mode raises EstimatedDateError, saying how to fix it."""
        cal = indonesian_government_calendar(strict=True)
        with pytest.raises(EstimatedDateError, match="confirm_estimated"):
            cal.add(self.START, "20 working days")

    def test_confirmed_dates(self) -> None:
        """Confirmed dates are no longer estimates: no warning, same deadline."""
        cal = indonesian_government_calendar(
            strict=True, confirm_estimated=[dt.date(2027, 3, 10), dt.date(2027, 3, 11)]
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = cal.add(self.START, "20 working days")
        assert result.estimated_dates == ()
        assert result.at == at(2027, 4, 8, 16)

    def test_override_removes_estimate(self) -> None:
        """Removing the estimated dates makes them working days, authoritatively."""
        cal = indonesian_government_calendar(
            strict=True,
            ramadan="none",
            holiday_overrides=[
                HolidayOverride(dt.date(2027, 3, 10), "remove"),
                HolidayOverride(dt.date(2027, 3, 11), "remove"),
            ],
        )
        assert cal.add(self.START, "20 working days").at == at(2027, 4, 6, 16)

    def test_calendar_durations_not_flagged(self) -> None:
        """Calendar days do not depend on holidays, so they carry no estimates."""
        assert CAL.add(self.START, "30 calendar days").estimated_dates == ()


class TestFingerprint:
    def test_stable_and_sensitive(self) -> None:
        """Equal definitions share a fingerprint; a changed switch changes it."""
        assert CAL.fingerprint == indonesian_government_calendar().fingerprint
        assert CAL.fingerprint != CAL_CUTI_WORKING.fingerprint
        assert CAL.fingerprint.startswith("sha256:")

    def test_deadline_records_years_used(self) -> None:
        """A deadline records the fingerprint of the years its span used."""
        result = CAL.add(at(2026, 12, 30, 10), "3 working days")
        assert result.calendar_fingerprint == CAL.fingerprint_for([2026, 2027])
        assert result.calendar_fingerprint != CAL.fingerprint_for([2026])


class TestDuration:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ({"working_days": 3}, Duration.working_days(3)),
            ("3 working days", Duration.working_days(3)),
            ("1 working day", Duration.working_days(1)),
            ("1.5 working hours", Duration.working_hours(1.5)),
            ("30 Calendar Days", Duration.calendar_days(30)),
            ({"calendar_hours": 24}, Duration.calendar_hours(24)),
            ({"calendar_minutes": 10}, Duration.calendar_minutes(10)),
            ("45 working minutes", Duration.working_minutes(45)),
            ("1 calendar minute", Duration.calendar_minutes(1)),
            ("PT10M", Duration.calendar_minutes(10)),
            ("pt10m", Duration.calendar_minutes(10)),
            ("PT1H30M", Duration.calendar_minutes(90)),
            ("PT2H", Duration.calendar_hours(2)),
            ("P3D", Duration.calendar_days(3)),
        ],
    )
    def test_from_config(self, value: object, expected: Duration) -> None:
        """Mappings and strings are read into durations."""
        assert Duration.from_config(value) == expected
        assert Duration.from_config(expected.to_config()) == expected

    @pytest.mark.parametrize(
        "value",
        [
            {"working_days": -1},
            "-3 working days",
            {"working_days": 1.5},
            {"fortnights": 2},
            {"working_days": 1, "calendar_days": 2},
            "three working days",
            {"working_hours": 0.01},
            {"working_days": True},
            42,
            {"calendar_minutes": 1.5},
            {"working_days": 100_000},
            {"calendar_hours": 876_601},
            {"working_minutes": 52_596_001},
            "P1Y",
            "P2W",
            "P1M",
            "P1DT2H",
            "PT",
            "PT30S",
            "P",
        ],
    )
    def test_malformed_refused(self, value: object) -> None:
        """Negative, fractional days, unknown units and junk are CalendarErrors."""
        with pytest.raises(CalendarError):
            Duration.from_config(value, path="sla")

    def test_path_in_error(self) -> None:
        """The config path prefixes the message."""
        with pytest.raises(
            CalendarError, match=r"^stages\[0\]\.sla: duration must not be negative"
        ):
            Duration.from_config({"working_days": -2}, path="stages[0].sla")

    def test_str(self) -> None:
        """A duration reads as words."""
        assert str(Duration.working_days(1)) == "1 working day"
        assert str(Duration.calendar_hours(2.5)) == "150 calendar minutes"
        assert str(Duration.calendar_minutes(1)) == "1 calendar minute"

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ({"calendar_hours": 0.5}, {"calendar_minutes": 30}),
            ({"working_hours": 1.5}, {"working_minutes": 90}),
            ("2.25 calendar hours", {"calendar_minutes": 135}),
            ({"working_hours": 2.0}, {"working_hours": 2}),
        ],
    )
    def test_fractional_hours_kept_as_whole_minutes(
        self, value: object, expected: dict[str, int]
    ) -> None:
        """A fractional hour amount is stored as minutes, never as a float."""
        config = Duration.from_config(value).to_config()
        assert config == expected
        assert all(type(amount) is int for amount in config.values())

    def test_too_long_names_the_limit(self) -> None:
        """A duration past about 100 years is refused with the bound and the years."""
        with pytest.raises(CalendarError, match=r"^sla: 100000 working days is too long.*36525"):
            Duration.from_config({"working_days": 100_000}, path="sla")

    def test_iso_refusal_names_forms(self) -> None:
        """An unsupported ISO duration names the supported spellings."""
        with pytest.raises(CalendarError, match=r"'P1Y' is not a supported.*'PT1H30M'"):
            Duration.from_config("P1Y", path="target")

    def test_minutes_deadlines(self) -> None:
        """Minute durations count elapsed or working time like hour durations."""
        start = at(2026, 7, 6, 11, 55)
        assert deadline(CAL, start, "PT10M") == at(2026, 7, 6, 12, 5)
        assert deadline(CAL, start, "90 working minutes") == deadline(
            CAL, start, "1.5 working hours"
        )
        assert deadline(CAL, start, "90 working minutes") != deadline(CAL, start, "PT1H30M")

    @given(st.integers(min_value=0, max_value=52_596_000))
    def test_minutes_round_trip(self, minutes: int) -> None:
        """Every minute amount in range survives to_config and its ISO spelling."""
        duration = Duration.calendar_minutes(minutes)
        assert Duration.from_config(duration.to_config()) == duration
        if minutes:
            spelled = Duration.from_config(f"PT{minutes}M")
            assert spelled.microseconds == duration.microseconds


class TestConfig:
    def test_round_trip(self) -> None:
        """to_config is read back to an equal calendar."""
        cal = indonesian_government_calendar(
            "Asia/Makassar",
            ramadan=[(dt.date(2026, 2, 19), dt.date(2026, 3, 17))],
            closures=[Closure(dt.date(2026, 7, 8), "Pilkada")],
            extra_working_days=[ExtraWorkingDay(dt.date(2026, 7, 11), (TimeRange(480, 720),))],
            holiday_overrides=[HolidayOverride(dt.date(2026, 7, 9), "add", "Hari Jadi Kota")],
            confirm_estimated=[dt.date(2027, 3, 10)],
            counting=Counting.RECEIPT_DAY_ONE,
        )
        assert calendar_from_config(cal.to_config()) == cal

    def test_full_document(self) -> None:
        """Every key is read; omitted weekdays keep the default hours."""
        cal = calendar_from_config(
            {
                "timezone": "Asia/Jayapura",
                "hours": {"saturday": ["08:00-12:00"]},
                "cuti_bersama_working": True,
                "closures": ["2026-07-08", {"date": "2026-07-09", "reason": "Banjir"}],
                "extra_working_days": [{"date": "2026-03-21", "hours": ["08:00-12:00"]}],
                "special_periods": [
                    {
                        "name": "Ramadan 1447 H",
                        "start": "2026-02-19",
                        "end": "2026-03-17",
                        "hours": "ramadan",
                    }
                ],
                "holiday_overrides": [{"date": "2026-03-19", "action": "move", "to": "2026-03-25"}],
                "confirm_estimated": ["2027-03-10"],
                "strict": True,
                "counting": "receipt-day-zero",
            }
        )
        assert cal.hours[5] == (TimeRange(480, 720),)
        assert cal.hours[0] == DEFAULT_HOURS[0]
        assert cal.is_working_time(at(2026, 3, 21, 9, tz=WIT))  # extra Saturday
        assert cal.is_working_time(at(2026, 3, 19, 9, tz=WIT))  # holiday moved away
        assert cal.is_working_time(at(2026, 3, 18, 9, tz=WIT))  # cuti bersama worked
        assert not cal.is_working_time(at(2026, 3, 25, 9, tz=WIT))
        assert cal.strict

    @pytest.mark.parametrize(
        ("config", "message"),
        [
            ({"hours": {"friday": ["16:30-07:30"]}}, r"^hours\.friday\[0\]: end before start$"),
            ({"hours": {"friday": ["7.30-12"]}}, r"^hours\.friday\[0\]: expected 'HH:MM-HH:MM'"),
            ({"hours": {"funday": []}}, r"^hours\.funday: unknown key"),
            (
                {"hours": {"monday": ["07:30-12:00", "11:00-16:00"]}},
                r"^hours\.monday\[1\]: .* overlaps",
            ),
            ({"timezone": "Mars/Olympus"}, r"^timezone: unknown IANA time zone"),
            ({"colour": "red"}, r"^colour: unknown key"),
            ({"closures": [{"date": "2026-02-30"}]}, r"^closures\[0\]\.date: expected a date"),
            ({"strict": "yes"}, r"^strict: expected true or false"),
            ({"counting": "day-one"}, r"^counting: expected one of"),
            (
                {
                    "special_periods": [
                        {
                            "name": "R",
                            "start": "2026-03-10",
                            "end": "2026-03-01",
                            "hours": "ramadan",
                        }
                    ]
                },
                r"^special_periods\[0\]\.end: .* before start",
            ),
            (
                {"holiday_overrides": [{"date": "2026-07-07", "action": "remove"}]},
                r"^holiday_overrides\[0\]: .* not a holiday",
            ),
            (
                {"holiday_overrides": [{"date": "2026-07-07", "action": "explode"}]},
                r"^holiday_overrides\[0\]\.action",
            ),
            (
                {
                    "hours": {
                        day: [] for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
                    }
                },
                r"^hours: no weekday has working hours",
            ),
        ],
    )
    def test_errors_name_key_paths(self, config: dict[str, object], message: str) -> None:
        """Config errors are CalendarErrors starting with the key path."""
        with pytest.raises(CalendarError, match=message):
            calendar_from_config(config)

    def test_source_prefix(self) -> None:
        """The source file prefixes the message."""
        with pytest.raises(CalendarError, match=r"^unit\.yaml:0: strict: "):
            calendar_from_config({"strict": 1}, source="unit.yaml")


# --- properties ------------------------------------------------------------------------

_START = dt.datetime(2026, 1, 1, tzinfo=WIB)
instants = st.integers(0, 330 * 24 * 60).map(lambda m: _START + dt.timedelta(minutes=m))
working_hours = st.integers(1, 120 * 60).map(lambda m: Duration.working_hours(m / 60))
working_days = st.integers(0, 40).map(Duration.working_days)
durations = st.one_of(working_hours, working_days)


class TestProperties:
    @settings(max_examples=150, deadline=None)
    @given(instants, working_hours)
    def test_elapsed_inverts_add(self, start: dt.datetime, duration: Duration) -> None:
        """elapsed(t, add(t, d)) == d for working-hour durations and t in working time."""
        t = CAL.next_working_instant(start)
        end = CAL.add(t, duration).at
        assert CAL.elapsed(t, end) == dt.timedelta(microseconds=duration.microseconds)

    @settings(max_examples=150, deadline=None)
    @given(instants, instants, durations)
    def test_monotonic_in_start(self, a: dt.datetime, b: dt.datetime, duration: Duration) -> None:
        """A later start never gives an earlier deadline."""
        a, b = min(a, b), max(a, b)
        assert CAL.add(a, duration).at <= CAL.add(b, duration).at

    @settings(max_examples=150, deadline=None)
    @given(instants, st.integers(0, 120 * 60), st.integers(0, 120 * 60))
    def test_monotonic_in_duration(self, start: dt.datetime, m1: int, m2: int) -> None:
        """A longer duration never gives an earlier deadline."""
        lo, hi = sorted((m1, m2))
        assert (
            CAL.add(start, Duration.working_hours(lo / 60)).at
            <= CAL.add(start, Duration.working_hours(hi / 60)).at
        )
        assert (
            CAL.add(start, Duration.working_days(lo // 180)).at
            <= CAL.add(start, Duration.working_days(hi // 180)).at
        )

    @settings(max_examples=150, deadline=None)
    @given(instants, durations)
    def test_result_ends_working_time(self, start: dt.datetime, duration: Duration) -> None:
        """A deadline is in working time or is the end of a working interval (the boundary)."""
        result = CAL.add(start, duration).at
        if duration.amount == 0 and duration.unit == "working_hours":
            return
        assert CAL.is_working_time(result) or CAL.is_working_time(result - US)
        if duration.unit == "working_days":
            assert not CAL.is_working_time(result)
            assert CAL.is_working_time(result - US)


class TestDocs:
    def test_docs_example_config_loads(self) -> None:
        """The YAML example in docs/calendar.md is a valid calendar and round-trips."""
        import pathlib
        import re

        import yaml

        text = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "calendar.md").read_text()
        block = re.search(r"```yaml\n(.*?)```", text, re.DOTALL)
        assert block is not None
        cal = calendar_from_config(yaml.safe_load(block.group(1)), source="docs/calendar.md")
        assert calendar_from_config(cal.to_config()) == cal
        assert cal.timezone == "Asia/Makassar"

    def test_docs_quick_example(self) -> None:
        """The quick example's commented results hold."""
        start = at(2026, 3, 17, 10)
        assert CAL.add(start, Duration.working_days(1)).at == at(2026, 3, 25, 16)
        assert CAL.add(start, "3 working hours").at == at(2026, 3, 17, 13, 30)


class TestWorkingPositions:
    @settings(max_examples=80, deadline=None)
    @given(
        a=st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 12, 31)),
        b=st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 12, 31)),
    )
    def test_positions_measure_like_elapsed(self, a: dt.datetime, b: dt.datetime) -> None:
        """elapsed_between(working_position(a), working_position(b)) == elapsed(a, b)."""
        cal = indonesian_government_calendar()
        start, end = a.replace(tzinfo=WIB), b.replace(tzinfo=WIB)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EstimatedDateWarning)
            expected = cal.elapsed(start, end)
        got = cal.elapsed_between(cal.working_position(start), cal.working_position(end))
        assert got == expected

    @settings(max_examples=80, deadline=None)
    @given(
        instants=st.lists(
            st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 12, 31)),
            min_size=2,
            max_size=6,
        ),
        zone=st.sampled_from(["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"]),
        as_utc=st.booleans(),
    )
    def test_located_instants_agree_whatever_was_located_before(
        self, instants: list[dt.datetime], zone: str, as_utc: bool
    ) -> None:
        """A position is the same whether the instant is located afresh or by bisecting the
        year table used last (in any zone the instant is given in)."""
        cal = indonesian_government_calendar(zone)
        tz = ZoneInfo(zone)
        aware = [i.replace(tzinfo=tz) for i in instants]
        given_as = [i.astimezone(dt.UTC) if as_utc else i for i in aware]
        warm = [cal.working_position(i) for i in given_as]  # each after the one before
        fresh = [indonesian_government_calendar(zone).working_position(i) for i in aware]
        assert warm == fresh
        assert cal.working_us_between(warm[0], warm[1]) == cal.elapsed_between(
            warm[0], warm[1]
        ) // dt.timedelta(microseconds=1)

    @settings(max_examples=80, deadline=None)
    @given(
        starts=st.lists(instants, min_size=1, max_size=5),
        days=st.integers(0, 30),
    )
    def test_working_day_deadlines_shared_by_starting_day(
        self, starts: list[dt.datetime], days: int
    ) -> None:
        """Deadlines remembered per starting day equal those computed afresh."""
        cal = indonesian_government_calendar()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EstimatedDateWarning)
            warm = [cal.deadline_at(s, Duration.working_days(days)) for s in starts]
            fresh = [
                indonesian_government_calendar().add(s, Duration.working_days(days)).at
                for s in starts
            ]
        assert warm == fresh

    def test_naive_instants_are_still_refused(self) -> None:
        """The fast location path refuses naive instants with a CalendarError."""
        cal = indonesian_government_calendar()
        cal.working_position(at(2026, 7, 6, 9))
        with pytest.raises(CalendarError, match="timezone-aware"):
            cal.working_position(dt.datetime(2026, 7, 6, 9))
        with pytest.raises(CalendarError, match="must be a datetime"):
            cal.working_position("2026-07-06")  # type: ignore[arg-type]

    @pytest.mark.parametrize("days", [0, 1, 3])
    def test_working_day_deadlines_depend_on_the_time_of_day(self, days: int) -> None:
        """Starts before, during and after the day's hours share a deadline only when
        counting starts on the same day (Monday 6 July 2026, hours 07:30-16:00)."""
        cal = indonesian_government_calendar()
        starts = [at(2026, 7, 6, 6), at(2026, 7, 6, 10), at(2026, 7, 6, 17), at(2026, 7, 6, 10, 5)]
        warm = [cal.deadline_at(s, Duration.working_days(days)) for s in starts]
        fresh = [
            indonesian_government_calendar().add(s, Duration.working_days(days)).at for s in starts
        ]
        assert warm == fresh
        assert warm[0] == warm[1] == warm[3] != warm[2]


class TestCalendarValue:
    def test_worked_out_results_take_no_part_in_equality_or_pickling(self) -> None:
        """A calendar that has answered queries equals, hashes and pickles as a fresh one."""
        used = indonesian_government_calendar()
        fresh = indonesian_government_calendar()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EstimatedDateWarning)
            used.add(at(2026, 7, 6, 9), Duration.working_days(5))
        used.fingerprint_for([2026, 2027])
        assert used == fresh
        assert hash(used) == hash(fresh)
        assert repr(used) == repr(fresh)
        assert pickle.dumps(used) == pickle.dumps(fresh)
        restored = pickle.loads(pickle.dumps(used))
        assert restored == used
        assert restored.fingerprint_for([2026]) == used.fingerprint_for([2026])
        assert copy.deepcopy(used) == used

    def test_unpickled_calendar_answers_alike(self) -> None:
        """An unpickled calendar computes the same deadlines as the original."""
        cal = indonesian_government_calendar(cuti_bersama_working=True)
        restored = pickle.loads(pickle.dumps(cal))
        start = at(2026, 3, 16, 10)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EstimatedDateWarning)
            assert restored.add(start, Duration.working_days(7)) == cal.add(
                start, Duration.working_days(7)
            )


class TestRoundTheClock:
    def test_every_instant_counts_on_idul_fitri(self) -> None:
        """Idul Fitri 2026 (20-21 March) counts like any other minute."""
        cal = round_the_clock_calendar()
        start = at(2026, 3, 20, 23, 55)
        assert cal.is_working_time(at(2026, 3, 21, 3, 0))
        assert deadline(cal, start, "PT10M") == at(2026, 3, 21, 0, 5)
        assert deadline(cal, start, "10 working minutes") == at(2026, 3, 21, 0, 5)
        assert deadline(cal, start, "2 working hours") == at(2026, 3, 21, 1, 55)
        assert deadline(cal, start, "1 working day") == at(2026, 3, 22)
        assert cal.non_working_days(2026) == []

    def test_config_round_trip_and_fingerprint(self) -> None:
        """`hours: always` and `holidays: none` read back to the same calendar."""
        cal = round_the_clock_calendar(tz="Asia/Makassar")
        again = calendar_from_config(cal.to_config())
        assert again == cal
        assert again.fingerprint == cal.fingerprint
        built = calendar_from_config(
            {"name": "round-the-clock", "timezone": "Asia/Makassar", "hours": "always",
             "holidays": "none"}
        )  # fmt: skip
        assert built.fingerprint == cal.fingerprint
        assert cal.fingerprint != CAL.fingerprint

    def test_holidays_none_keeps_weekly_hours(self) -> None:
        """`holidays: none` works Idul Fitri 2026 but keeps weekends and office hours."""
        cal = calendar_from_config({"holidays": "none"})
        assert deadline(cal, at(2026, 3, 20, 8), "1 working day") == at(2026, 3, 23, 16)
        assert deadline(CAL, at(2026, 3, 20, 8), "1 working day") == at(2026, 3, 26, 16)
        assert cal.fingerprint != CAL.fingerprint

    def test_default_fingerprint_unchanged_by_option(self) -> None:
        """Writing `holidays: package` explicitly is the same calendar as leaving it out."""
        assert calendar_from_config({"holidays": "package"}) == calendar_from_config({})
        assert "holidays" not in CAL.to_config()

    @pytest.mark.parametrize("value", ["no", True, None, ["none"]])
    def test_bad_holidays_option(self, value: object) -> None:
        """Anything but `package` or `none` is a located problem."""
        with pytest.raises(CalendarError, match=r"holidays: expected 'package'"):
            calendar_from_config({"holidays": value})

    @given(st.integers(min_value=0, max_value=10 * 366 * 24 * 60))
    @settings(max_examples=50, deadline=None)
    def test_working_equals_elapsed(self, minutes: int) -> None:
        """On the round-the-clock calendar working minutes are elapsed minutes."""
        cal = round_the_clock_calendar()
        start = at(2026, 3, 18, 9, 17)
        assert (
            cal.add(start, Duration.working_minutes(minutes)).at
            == cal.add(start, Duration.calendar_minutes(minutes)).at
        )
