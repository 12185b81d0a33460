"""Simulate an SOP on a scenario: timed actions by actors, with SLA clock deadlines.

A scenario (YAML, TOML or JSON) lists actors and steps::

    actors:
      warga: {roles: [citizen]}
      ver1: {roles: [verifier]}
    steps:
      - at: "2026-07-06T09:00:00+07:00"
        actor: warga
        action: submit
        data: {subject: Jalan rusak, category: infrastruktur}
      - after: {working_hours: 2}       # relative to the previous step
        actor: ver1
        action: verify
      - after: {working_days: 1}
        actor: ver1
        action: close
        expect: refused                  # a refusal the scenario demonstrates

Each step is checked the way the service desk checks it (state, roles, separation of
duties, required fields and justification).  The actor ``system`` (role ``system``) is
always present, for automatic actions such as closing after the reporter's silence.

The clocks are interpreted simply, for a preview: a clock starts, stops, pauses, resumes
and resets on its conditions; a paused clock keeps its remaining time (working time for
working durations) and resumes with it.  The SLA engine is the authority at run time.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from pelayanan._config import Problems, read_config_file, read_duration
from pelayanan.access import (
    SYSTEM,
    AccessPolicy,
    Actor,
    DelegationRegistry,
    authorize,
    check_access,
    read_access_config,
)
from pelayanan.calendar import (
    Duration,
    WorkCalendar,
    indonesian_government_calendar,
    named_calendar,
)
from pelayanan.exceptions import (
    EstimatedDateWarning,
    IncompleteRequestError,
    Problem,
    RequestError,
    ScenarioError,
    TransitionNotAllowedError,
)
from pelayanan.sop._validate import validate
from pelayanan.sop.compile import compile_sop
from pelayanan.sop.model import SOP, ClockDef
from pelayanan.sop.values import check_writes

if TYPE_CHECKING:
    from pelayanan.routing import RoutingConfig

__all__ = [
    "ClockView",
    "Scenario",
    "ScenarioStep",
    "StepResult",
    "load_scenario",
    "scenario_from_dict",
    "simulate",
    "sop_branches",
]

_NAMES = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
SCENARIO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["steps"],
    "properties": {
        "description": {"type": "string"},
        "actors": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "roles": _NAMES,
                    "unit": {"type": "string"},
                    "units": _NAMES,
                },
            },
        },
        "access": {"type": "object"},
        "steps": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["actor", "action"],
                "properties": {
                    "at": {"type": "string", "minLength": 1},
                    "after": {
                        "anyOf": [{"type": "object"}, {"type": "string"}],
                        "x-expected": "a duration such as {working_hours: 2}",
                    },
                    "actor": {"type": "string", "minLength": 1},
                    "action": {"type": "string", "minLength": 1},
                    "data": {"type": "object"},
                    "justification": {"type": "string"},
                    "on_behalf_of": {"type": "string", "minLength": 1},
                    "expect": {"enum": ["accepted", "refused"]},
                    "note": {"type": "string"},
                },
            },
        },
    },
}


@attrs.frozen
class ScenarioStep:
    """One timed action of a scenario.

    Attributes:
        actor: the actor's name (a key of the scenario's actors, or ``system``).
        action: the action (``submit`` opens the request).
        at: the instant, when given absolutely.
        after: the time since the previous step, when given relatively.
        data: fields the step adds.
        justification: the written justification, if any.
        expect: ``accepted`` or ``refused``.
        note: a comment printed with the step.
        line: the step's line in the scenario file.
        on_behalf_of: the official whose authority the actor uses (a Plt/Plh delegation
            of the scenario's ``access``).
    """

    actor: str
    action: str
    at: dt.datetime | None = None
    after: Duration | None = None
    data: Mapping[str, Any] = attrs.field(factory=dict)
    justification: str | None = None
    expect: str = "accepted"
    note: str = ""
    line: int | None = None
    on_behalf_of: str | None = None


@attrs.frozen
class Scenario:
    """A scenario: actors, the steps they take, and the access rules in force.

    Attributes:
        actors: actor name -> actor (``system`` is always there).
        steps: the steps, in order.
        source: the file it was loaded from.
        policy: separation-of-duties rules and cross-unit roles (``access``).
        delegations: the acting officials (Plt/Plh) in force (``access.delegations``).
    """

    actors: Mapping[str, Actor]
    steps: tuple[ScenarioStep, ...]
    source: str | None = None
    policy: AccessPolicy = attrs.field(factory=AccessPolicy)
    delegations: DelegationRegistry = attrs.field(factory=DelegationRegistry)


@attrs.frozen
class ClockView:
    """A clock as the simulation sees it after a step.

    Attributes:
        name: the clock.
        status: ``running``, ``paused`` or ``stopped``.
        deadline: when it breaches (``None`` while paused).
        estimated: the deadline relies on an estimated holiday date.
        breached: the deadline had passed at the step's time (for a stopped clock: when
            it stopped).
        remaining: working or calendar time left, while paused.
    """

    name: str
    status: str
    deadline: dt.datetime | None
    estimated: bool = False
    breached: bool = False
    remaining: dt.timedelta | None = None


@attrs.frozen
class StepResult:
    """What one scenario step did.

    Attributes:
        index: the step's position (0-based).
        step: the step.
        at: when it happened.
        accepted: whether the action was taken.
        as_expected: whether that matches the step's ``expect``.
        state: the request's state after the step (``None`` before submission).
        reason: why it was refused, if it was.
        clocks: the open clocks after the step, and those it stopped.
        branches: in a parallel state, each branch's state after the step.
        unit: the unit holding the request after the step (routing, when given).
        authority: the official whose delegation the actor used, if any.
    """

    index: int
    step: ScenarioStep
    at: dt.datetime
    accepted: bool
    as_expected: bool
    state: str | None
    reason: str | None
    clocks: tuple[ClockView, ...]
    branches: Mapping[str, str] = attrs.field(factory=dict)
    unit: str | None = None
    authority: str | None = None


def load_scenario(path: str | Path) -> Scenario:
    """Load the scenario in *path* (YAML, TOML or JSON).

    Raises:
        ScenarioError: the file cannot be read or parsed, or the scenario is invalid.
    """
    data, lines = read_config_file(path, error=ScenarioError)
    return scenario_from_dict(data, source=str(path), lines=lines)


def _instant(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def scenario_from_dict(
    data: Any, *, source: str | None = None, lines: Mapping[str, int] | None = None
) -> Scenario:
    """Validate a plain mapping as a scenario.

    Raises:
        ScenarioError: the scenario is invalid (every problem listed).
    """
    lines = lines or {}
    problems = Problems(source=source, lines=lines)
    add = problems.add

    if isinstance(data, Mapping) and isinstance(data.get("steps"), list):
        # YAML reads unquoted timestamps as datetimes: accept them as given.
        steps_raw = [
            {**s, "at": s["at"].isoformat()}
            if isinstance(s, Mapping) and isinstance(s.get("at"), dt.datetime)
            else s
            for s in data["steps"]
        ]
        data = {**data, "steps": steps_raw}
    for path, message in validate(data, SCENARIO_SCHEMA):
        add(path, message)
    if not isinstance(data, Mapping):
        add("", "a scenario is a mapping")
    problems.check(ScenarioError)
    assert isinstance(data, Mapping)  # checked just above
    actors: dict[str, Actor] = {"system": SYSTEM}
    for name, spec in data.get("actors", {}).items():
        roles, units = spec.get("roles", ()), spec.get("units", ())
        actors[name] = Actor(
            str(name),
            {roles} if isinstance(roles, str) else set(roles),
            spec.get("unit"),
            units={units} if isinstance(units, str) else set(units),
        )
    policy, delegations = AccessPolicy(), DelegationRegistry()
    if "access" in data:
        policy, delegations = read_access_config(data["access"], "access", problems)
    steps = []
    for index, raw in enumerate(data["steps"]):
        path = f"steps[{index}]"
        at = _instant(raw.get("at")) if "at" in raw else None
        after = None
        if "at" in raw and (at is None or at.tzinfo is None):
            add(
                f"{path}.at",
                "give an ISO 8601 date-time with its offset, e.g. 2026-07-06T09:00+07:00",
            )
        if "after" in raw:
            after = read_duration(raw["after"], f"{path}.after", problems)
        if ("at" in raw) == ("after" in raw):
            add(path, "give exactly one of 'at' (an instant) and 'after' (a duration)")
        if index == 0 and "after" in raw:
            add(f"{path}.after", "the first step needs 'at': there is no previous step")
        if raw["actor"] not in actors:
            add(f"{path}.actor", f"actor {raw['actor']!r} is not listed under actors")
        steps.append(
            ScenarioStep(
                actor=raw["actor"],
                action=raw["action"],
                at=at,
                after=after,
                data=dict(raw.get("data", {})),
                justification=raw.get("justification"),
                expect=raw.get("expect", "accepted"),
                note=raw.get("note", ""),
                line=lines.get(path),
                on_behalf_of=raw.get("on_behalf_of"),
            )
        )
    problems.check(ScenarioError)
    return Scenario(
        actors=actors,
        steps=tuple(steps),
        source=source,
        policy=policy,
        delegations=delegations,
    )


@attrs.define
class _Run:
    status: str
    deadline: dt.datetime | None
    estimated: bool
    remaining: dt.timedelta | None = None
    stopped_at: dt.datetime | None = None


class _Clocks:
    """The simple clock interpretation of the simulation."""

    def __init__(self, sop: SOP, default: WorkCalendar, calendars: Mapping[str, WorkCalendar]):
        self.sop = sop
        self.default = default
        self.calendars = calendars
        self.runs: dict[str, _Run] = {}

    def calendar(self, clock: ClockDef) -> WorkCalendar:
        calendar = named_calendar(clock.calendar, self.calendars, self.default)
        return calendar.with_counting(clock.counting)

    def deadline(self, clock: ClockDef, start: dt.datetime, duration: Duration) -> _Run:
        with warnings.catch_warnings():
            # The estimate is shown next to the deadline instead of as a warning.
            warnings.simplefilter("ignore", EstimatedDateWarning)
            found = self.calendar(clock).add(start, duration)
        return _Run("running", found.at, found.is_estimated)

    def apply(self, action: str, entered: str, now: dt.datetime) -> None:
        for clock in self.sop.clocks:
            run = self.runs.get(clock.name)
            active = run is not None and run.status in ("running", "paused")
            if run is not None and active and clock.stop.matches(action, entered):
                run.status, run.stopped_at = "stopped", now
                continue
            if run is not None and run.status == "running":
                if clock.reset is not None and clock.reset.matches(action, entered):
                    self.runs[clock.name] = self.deadline(clock, now, clock.target)
                elif clock.pause is not None and clock.pause.matches(action, entered):
                    run.remaining = self.left(clock, run, now)
                    run.status, run.deadline = "paused", None
            elif run is not None and run.status == "paused":
                if clock.resume is not None and clock.resume.matches(action, entered):
                    self.runs[clock.name] = self.resumed(clock, run, now)
            elif clock.start.matches(action, entered):
                self.runs[clock.name] = self.deadline(clock, now, clock.target)

    def left(self, clock: ClockDef, run: _Run, now: dt.datetime) -> dt.timedelta:
        assert run.deadline is not None
        if clock.target.is_working:
            return max(self.calendar(clock).elapsed(now, run.deadline), dt.timedelta(0))
        return max(run.deadline - now, dt.timedelta(0))

    def resumed(self, clock: ClockDef, run: _Run, now: dt.datetime) -> _Run:
        remaining = run.remaining or dt.timedelta(0)
        if clock.target.is_working:
            minutes = math.floor(remaining.total_seconds() / 60)
            return self.deadline(clock, now, Duration.working_hours(minutes / 60))
        return _Run("running", now + remaining, run.estimated)

    def views(self, now: dt.datetime, *, stopped_now: set[str]) -> tuple[ClockView, ...]:
        shown = []
        for name, run in self.runs.items():
            if run.status == "stopped" and name not in stopped_now:
                continue
            when = run.stopped_at if run.status == "stopped" and run.stopped_at else now
            breached = run.deadline is not None and when > run.deadline
            shown.append(
                ClockView(name, run.status, run.deadline, run.estimated, breached, run.remaining)
            )
        return tuple(shown)


def _missing(names: tuple[str, ...], data: Mapping[str, Any]) -> list[str]:
    return [n for n in names if data.get(n) in (None, "", [], {})]


def simulate(
    sop: SOP,
    scenario: Scenario,
    *,
    calendar: WorkCalendar | None = None,
    calendars: Mapping[str, WorkCalendar] | None = None,
    routing: RoutingConfig | None = None,
) -> Iterator[StepResult]:
    """Run *scenario* on *sop*, yielding one result per step.

    Stops after the first step whose outcome differs from its ``expect`` (by default:
    after the first refusal).

    Args:
        sop: the SOP.
        scenario: the scenario.
        calendar: the default working calendar (the Indonesian government calendar).
        calendars: calendars by the names clocks give; others use *calendar*, except
            ``round-the-clock``, which is `round_the_clock_calendar` in *calendar*'s
            zone unless given.
        routing: a routing configuration: the submission and actions with ``route`` move
            the request to the unit it decides, and its delegations join the scenario's.

    Raises:
        ScenarioError: a step is earlier than the one before it.
    """
    default = calendar if calendar is not None else indonesian_government_calendar()
    clocks = _Clocks(sop, default, calendars or {})
    run = _Request(sop, scenario, routing)
    previous: dt.datetime | None = None
    for index, step in enumerate(scenario.steps):
        now = _step_time(scenario, index, previous, default)
        previous = now
        before = {n for n, r in clocks.runs.items() if r.status != "stopped"}
        reason = None
        authority = None
        try:
            authority = run.step(step, now)
        except RequestError as exc:
            reason = f"{type(exc).__name__}: {exc}"
        accepted = reason is None
        stopped: set[str] = set()
        if accepted and run.active:
            clocks.apply(step.action, run.entered, now)
            stopped = {n for n in before if clocks.runs[n].status == "stopped"}
        as_expected = accepted == (step.expect == "accepted")
        yield StepResult(
            index=index,
            step=step,
            at=now,
            accepted=accepted,
            as_expected=as_expected,
            state=run.active[0] if run.active else None,
            reason=reason,
            clocks=clocks.views(now, stopped_now=stopped),
            branches=sop_branches(sop, run.active),
            unit=run.unit,
            authority=authority,
        )
        if not as_expected:
            return


def sop_branches(sop: SOP, active: list[str]) -> dict[str, str]:
    """Return branch name -> state for the configuration *active* (empty outside one)."""
    found = {}
    for state_id in active[1:]:
        owner = sop.branch_of(state_id)
        if owner is not None:
            found[owner[1].name] = state_id
    return found


class _Request:
    """One request moved through the SOP as the desk would move it."""

    def __init__(self, sop: SOP, scenario: Scenario, routing: RoutingConfig | None) -> None:
        self.sop = sop
        self.scenario = scenario
        self.routing = routing
        self.compiled = compile_sop(sop)
        self.active: list[str] = []
        #: The state the last step entered (a branch's state for a move inside a branch).
        self.entered = ""
        self.unit: str | None = None
        self.data: dict[str, Any] = {}
        self.history: dict[str, list[str]] = {}
        self.delegations = DelegationRegistry(
            [*scenario.delegations, *(routing.delegations if routing is not None else ())]
        )

    def step(self, step: ScenarioStep, now: dt.datetime) -> str | None:
        """Take *step* at *now*; return the principal whose delegation was used, if any.

        Raises:
            RequestError: the desk would refuse the step (the same error it raises).
        """
        actor = self.scenario.actors[step.actor]
        merged = {**self.data, **step.data}
        if step.action == "submit":
            self._submit(step, actor, merged)
            principal = None
        else:
            principal = self._act(step, actor, merged, now)
        self.data = merged
        self.history.setdefault(step.action, [])
        for person in (actor.id, principal):
            if person is not None and person not in self.history[step.action]:
                self.history[step.action].append(person)
        return principal

    def _submit(self, step: ScenarioStep, actor: Actor, merged: Mapping[str, Any]) -> None:
        sop = self.sop
        if self.active:
            raise TransitionNotAllowedError("submit", self.active[0])
        authorize(actor, "submit", allowed_roles=sop.submit.roles)
        check_writes(sop, None, "submit", step.data)
        missing = _missing(sop.submit.requires, merged)
        if missing:
            raise IncompleteRequestError("submit", missing)
        self.unit = sop.unit
        if self.routing is not None and sop.submit.route:
            public = sop.privacy.public(merged)
            self.unit = self.routing.table.route(self.routing.attributes(sop.id, public)).unit
        self.active = [sop.initial]
        self.entered = sop.initial

    def _act(
        self, step: ScenarioStep, actor: Actor, merged: Mapping[str, Any], now: dt.datetime
    ) -> str | None:
        sop = self.sop
        if not self.active:
            # No request yet: the first step must submit it.
            raise TransitionNotAllowedError(step.action, "(not submitted)", ["submit"])
        spec, source = sop.taking(step.action, self.active)
        owner = sop.branch_of(source)
        grant = check_access(
            actor,
            step.action,
            allowed_roles=spec.roles,
            not_by=spec.not_by,
            history=self.history,
            on_behalf_of=step.on_behalf_of,
            delegations=self.delegations,
            at=now,
            unit=(owner[1].unit if owner else None) or self.unit,
            policy=self.scenario.policy,
        )
        check_writes(sop, spec, step.action, step.data)
        missing = _missing(spec.required_fields, merged)
        blank = spec.justification and not (step.justification or "").strip()
        if missing or blank:
            raise IncompleteRequestError(
                step.action, missing, arguments=["justification"] if blank else []
            )
        configuration = self.compiled.fire_active(self.active, step.action)
        if spec.route is not None:
            self.unit = self._routed(spec.route, step.action, merged)
        stays = owner is not None and configuration[0] == self.active[0]
        self.entered = spec.target if stays else configuration[0]
        self.active = configuration
        authority = grant.authority()
        return None if authority is None else str(authority.get("principal"))

    def _routed(self, route: str, action: str, merged: Mapping[str, Any]) -> str | None:
        public = self.sop.privacy.public(merged)
        if route.startswith("field:"):
            unit = public.get(route.removeprefix("field:"))
            if not isinstance(unit, str) or not unit.strip():
                raise IncompleteRequestError(action, [route.removeprefix("field:")])
            return unit
        if self.routing is None:
            # Without --routing the preview cannot evaluate the rules: the holder stays.
            return self.unit
        return self.routing.table.route(self.routing.attributes(self.sop.id, public)).unit


def _step_time(
    scenario: Scenario, index: int, previous: dt.datetime | None, calendar: WorkCalendar
) -> dt.datetime:
    """Return the instant of step *index*, refusing one earlier than the step before it."""
    step = scenario.steps[index]
    if step.at is not None:
        now = step.at
    else:
        # The loader guarantees: only a step after the first may be relative.
        assert previous is not None
        assert step.after is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EstimatedDateWarning)
            now = calendar.add(previous, step.after).at
    if previous is not None and now < previous:
        problem = Problem(
            f"steps[{index}].at",
            f"step time {now.isoformat()} is before the previous step",
            scenario.source,
            step.line,
        )
        raise ScenarioError([problem])
    return now
