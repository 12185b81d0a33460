"""Assignment within a unit: which officer gets a request.

An `AssignmentPolicy` picks an officer inside a unit: ``manual`` (nobody; the head of
unit assigns), ``round_robin``, ``least_loaded`` (fewest open requests in the store) or
``skill`` (least loaded among the officers holding the skill the request needs).  Each
is a pure function of the counts the store reports, so a store state pins the choice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from pelayanan.audit.kinds import ASSIGNEE, LOAD, REASON, STRATEGY, UNIT

__all__ = ["STRATEGIES", "AssignmentDecision", "AssignmentPolicy", "Officer"]

#: The assignment strategies.
STRATEGIES = ("manual", "round_robin", "least_loaded", "skill")


# --- assignment ------------------------------------------------------------------------


def _skills(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


@attrs.frozen
class Officer:
    """An officer who can be assigned requests in a unit.

    Attributes:
        id: the officer's actor id.
        skills: what the officer handles (matched against the request's skill attribute).
    """

    id: str
    skills: frozenset[str] = attrs.field(converter=_skills, factory=frozenset)


@attrs.frozen
class AssignmentDecision:
    """Who in a unit gets a request, by which strategy, and why.

    Attributes:
        unit: the unit.
        assignee: the officer chosen, or ``None`` (left to the head of unit).
        strategy: the strategy used.
        reason: the reason in words.
        load: officer -> open requests when the decision was made (the evidence).
    """

    unit: str
    assignee: str | None
    strategy: str
    reason: str
    load: Mapping[str, int] = attrs.field(factory=dict)

    def record(self) -> dict[str, Any]:
        """Return the decision as recorded in an audit entry."""
        return {
            UNIT: self.unit,
            ASSIGNEE: self.assignee,
            STRATEGY: self.strategy,
            REASON: self.reason,
            LOAD: dict(self.load),
        }


@attrs.frozen
class AssignmentPolicy:
    """How a unit assigns its requests to its officers.

    Attributes:
        unit: the unit.
        strategy: one of `STRATEGIES`.
        officers: the officers, in the order ties are broken.
        skill_attribute: for ``skill``: the request attribute naming the skill it needs.
    """

    unit: str
    strategy: str = attrs.field(default="manual", validator=attrs.validators.in_(STRATEGIES))
    officers: tuple[Officer, ...] = ()
    skill_attribute: str = "category"

    def choose(
        self, counts: Mapping[str, tuple[int, int]], *, attributes: Mapping[str, object]
    ) -> AssignmentDecision:
        """Pick an officer for a request arriving in the unit.

        Args:
            counts: officer -> (open requests, all requests) assigned to them in the unit,
                as the store reports them.
            attributes: the request attributes (for ``skill``).

        Returns:
            The decision; ``assignee`` is ``None`` for ``manual``, an empty pool, or no
            officer holding the skill.
        """
        load = {o.id: counts.get(o.id, (0, 0))[0] for o in self.officers}
        if self.strategy == "manual":
            return AssignmentDecision(self.unit, None, "manual", "left to the head of unit")
        pool = list(self.officers)
        if not pool:
            reason = f"unit {self.unit!r} lists no officers"
            return AssignmentDecision(self.unit, None, self.strategy, reason, load)
        if self.strategy == "round_robin":
            # The officer with the fewest requests ever handed to them, first in list order
            # on ties: from an empty unit this is plain rotation, and it stays fair when
            # officers join or leave the pool.
            chosen = min(pool, key=lambda o: (counts.get(o.id, (0, 0))[1], pool.index(o)))
            total = counts.get(chosen.id, (0, 0))[1]
            reason = f"next in rotation ({total} requests handed to them so far)"
            return AssignmentDecision(self.unit, chosen.id, "round_robin", reason, load)
        if self.strategy == "skill":
            needed = attributes.get(self.skill_attribute)
            if needed is None:
                reason = f"the request has no {self.skill_attribute!r} to match skills on"
                return AssignmentDecision(self.unit, None, "skill", reason, load)
            pool = [o for o in pool if str(needed) in o.skills]
            if not pool:
                reason = f"no officer of {self.unit!r} has the skill {needed!r}"
                return AssignmentDecision(self.unit, None, "skill", reason, load)
        chosen = min(pool, key=lambda o: (load[o.id], self.officers.index(o)))
        reason = f"fewest open requests ({load[chosen.id]})"
        if self.strategy == "skill":
            reason = f"has the skill {attributes.get(self.skill_attribute)!r}; {reason}"
        return AssignmentDecision(self.unit, chosen.id, self.strategy, reason, load)
