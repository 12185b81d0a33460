"""SLA clocks: named clocks per request with targets, warnings and escalation ladders.

An SOP declares its clocks (`ClockDef`): when each starts, pauses, resumes, stops and
resets (on actions or on entering states), its target as a `Duration` on a working
calendar, warning thresholds (percentages of the target) and an escalation ladder
(steps that notify, reassign or have the system act, at a percentage of the target or
a duration past the breach).

This module is pure: it never reads the clock, the store or the desk.

* `ClockEngine.transition` applies an action to a request's clock states (a JSON-ready
  mapping the desk keeps in the request's ``meta["sla"]``) and returns the changes to
  record in the action's audit entry;
* `ClockEngine.due` lists the warnings, breaches and escalations due at an instant, and
  `ClockEngine.fire` marks one fired; `next_due` is the earliest pending instant (the
  indexed ``next_due`` column the desk's ``tick`` queries);
* `recompute_verdicts` replays the audit log alone, on the calendars the log names by
  fingerprint, and `recorded_verdicts` reads what the desk recorded: the two agree;
* `attribute_breaches` says which unit and officer held a breached request, and for how
  much working time; `replay_clocks` returns both from one replay, and `ClockReplayer`
  is the engine behind the three, fed one entry at a time (what reports use).

Clocks count whole minutes: every instant a clock uses is truncated to its minute (an
action within the minute of the deadline is on time).  That keeps every measure an exact
whole number of minutes, so a deadline moved by a pause is exact and a replay of the log
reproduces every verdict to the microsecond.  See ``docs/sla.md``.
"""

from pelayanan.sla._config import (
    ClockCondition,
    ClockDef,
    EscalationStep,
    check_clock_defs,
    clock_defs_from_config,
)
from pelayanan.sla._engine import (
    ClockChange,
    ClockEngine,
    DueEvent,
    FiredEvent,
    event_body,
    next_due,
    reassignment,
)
from pelayanan.sla._replay import (
    BreachAttribution,
    ClockReplay,
    ClockReplayer,
    ClockVerdict,
    Holding,
    attribute_breaches,
    recompute_verdicts,
    recorded_verdicts,
    replay_clocks,
)

__all__ = [
    "BreachAttribution",
    "ClockChange",
    "ClockCondition",
    "ClockDef",
    "ClockEngine",
    "ClockReplay",
    "ClockReplayer",
    "ClockVerdict",
    "DueEvent",
    "EscalationStep",
    "FiredEvent",
    "Holding",
    "attribute_breaches",
    "check_clock_defs",
    "clock_defs_from_config",
    "event_body",
    "next_due",
    "reassignment",
    "recompute_verdicts",
    "recorded_verdicts",
    "replay_clocks",
]
