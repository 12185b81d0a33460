"""Working calendars on Indonesian government time, and duration arithmetic on them.

A `WorkCalendar` says, for every local date in its IANA time zone, which stretches of the
wall clock are working time: weekly hours per weekday (breaks are the gaps), minus
national holidays and cuti bersama from the ``holidays`` package, minus agency closures,
plus extra working days, with special periods (Ramadan) that change the hours.  On it,
`WorkCalendar.add` computes deadlines and `WorkCalendar.elapsed` measures working time.

Defaults follow Perpres 21/2023 on civil servants' working days and hours: five working
days Monday-Friday, 37 h 30 min a week excluding breaks, the day starting 07:30 local
time, 60 min break (90 min on Friday).  The exact daily split used here
(Mon-Thu 07:30-16:00 with a 12:00-13:00 break; Fri 07:30-16:30 with an 11:30-13:00
break) is one schedule meeting that rule; each agency sets its own, so it is
configurable.  Ramadan hours (32 h 30 min a week from 08:00) follow the MenPANRB
circulars; the government calendar applies them by default on the published Ramadan
dates (1 Ramadan from the sidang isbat, Idul Fitri from the SKB), computing later years
from the holidays package and flagging them estimated.  Whether cuti bersama
stop the clock is not settled by any rule: the default treats them as non-working,
``cuti_bersama_working=True`` switches that.  See ``docs/calendar.md``.

Arithmetic never steps hour by hour: each year's working time is resolved once per
calendar into per-day working intervals, a prefix sum of working microseconds and the
ordinals of working days (cached), and a query bisects those tables, so a 60-working-day
deadline costs about as much as a 1-day one.
"""

from pelayanan.calendar import _types
from pelayanan.calendar._calendar import (
    ROUND_THE_CLOCK,
    WorkCalendar,
    calendar_from_config,
    indonesian_government_calendar,
    named_calendar,
    round_the_clock_calendar,
)
from pelayanan.calendar._hours import (
    ALWAYS_HOURS,
    DEFAULT_HOURS,
    INDONESIAN_TIMEZONES,
    RAMADAN_HOURS,
    ramadan_period,
)
from pelayanan.calendar._types import *  # noqa: F403  (the public types, listed in its __all__)

__all__ = [
    "ALWAYS_HOURS",
    "DEFAULT_HOURS",
    "INDONESIAN_TIMEZONES",
    "RAMADAN_HOURS",
    "ROUND_THE_CLOCK",
    "WorkCalendar",
    "calendar_from_config",
    "indonesian_government_calendar",
    "named_calendar",
    "ramadan_period",
    "round_the_clock_calendar",
]
__all__ += _types.__all__
