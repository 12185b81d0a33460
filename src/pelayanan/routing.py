"""Where requests go: routing rules, region codes, and assignment within a unit.

A `RoutingTable` holds ordered rules.  Each rule matches request attributes (``service``,
``category``, ``channel``, ``priority``, ``region``) and names a unit; the first rule
that matches wins.  A request no rule matches goes to the table's triage unit, or raises
`RoutingError` when none is declared: it never vanishes ("no wrong door", see
DOMAIN.md, Complaints).

Rules are indexed by the attribute values they match: for every attribute the table
keeps, per value, the set of rules that accept it as a bit mask (plus the mask of rules
that do not look at that attribute).  A decision is one AND of a few masks per attribute
and a lowest-set-bit, so 1,000 rules cost about what 10 do.

Regions use the Kemendagri code hierarchy (Permendagri 137/2017 tentang Kode dan Data
Wilayah Administrasi Pemerintahan, as amended by Permendagri 72/2019 [S]): ``32``
province, ``32.73`` kabupaten/kota, ``32.73.01`` kecamatan, ``32.73.01.1001``
kelurahan/desa.  A rule on ``32.73`` matches every code under it.

An `AssignmentPolicy` picks an officer inside a unit: ``manual`` (nobody; the head of
unit assigns), ``round_robin``, ``least_loaded`` (fewest open requests in the store) or
``skill`` (least loaded among the officers holding the skill the request needs).  Each
is a pure function of the counts the store reports, so a store state pins the choice.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import yaml

from pelayanan.access import AccessPolicy, DelegationRegistry, access_config_from_dict
from pelayanan.exceptions import ConfigurationError, Problem, RoutingError

__all__ = [
    "ATTRIBUTES",
    "REGION_LEVELS",
    "STRATEGIES",
    "AssignmentDecision",
    "AssignmentPolicy",
    "Officer",
    "Region",
    "RoutingConfig",
    "RoutingDecision",
    "RoutingTable",
    "Rule",
    "load_routing_config",
    "routing_config_from_dict",
]

#: The request attributes a rule may match.
ATTRIBUTES = ("service", "category", "channel", "priority", "region")
#: The levels of the Kemendagri region code, from the top.
REGION_LEVELS = ("provinsi", "kabupaten/kota", "kecamatan", "kelurahan/desa")
#: The assignment strategies.
STRATEGIES = ("manual", "round_robin", "least_loaded", "skill")

_REGION = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")


# --- regions ---------------------------------------------------------------------------


@attrs.frozen
class Region:
    """A Kemendagri region code (``32``, ``32.73``, ``32.73.01``, ``32.73.01.1001``).

    Attributes:
        code: the dotted code.
    """

    code: str

    @classmethod
    def parse(cls, code: object) -> Region:
        """Return the region of *code*.

        Raises:
            ConfigurationError: *code* is not a dotted Kemendagri code.
        """
        text = str(code).strip()
        if not _REGION.match(text):
            msg = (
                f"{code!r} is not a Kemendagri region code: use 2 digits for the province, "
                "then .2 (kabupaten/kota), .2 (kecamatan), .4 (kelurahan/desa), "
                "e.g. '32.73.01.1001'"
            )
            raise ConfigurationError(msg)
        return cls(text)

    @property
    def level(self) -> str:
        """Return the level name (``provinsi`` ... ``kelurahan/desa``)."""
        return REGION_LEVELS[self.code.count(".")]

    @property
    def ancestors(self) -> tuple[str, ...]:
        """Return the codes from the province down to this one, this one included."""
        parts = self.code.split(".")
        return tuple(".".join(parts[: i + 1]) for i in range(len(parts)))

    def contains(self, other: Region) -> bool:
        """Return whether *other* is this region or lies inside it."""
        return self.code in other.ancestors


# --- rules and the table ---------------------------------------------------------------


def _value_sets(value: Mapping[str, Iterable[str]]) -> Mapping[str, frozenset[str]]:
    return {key: frozenset(str(v) for v in values) for key, values in value.items()}


@attrs.frozen
class Rule:
    """One routing rule: when every attribute it names has one of its values, go to *unit*.

    Attributes:
        name: the rule's name, recorded in the audit log as the reason for the decision.
        unit: the unit requests matching it go to.
        when: attribute -> accepted values; an attribute not named accepts anything.
            ``region`` values are region codes matching themselves and everything under.
    """

    name: str
    unit: str
    when: Mapping[str, frozenset[str]] = attrs.field(converter=_value_sets, factory=dict)

    def __attrs_post_init__(self) -> None:
        """Check the attribute names and region codes."""
        for key in self.when:
            if key not in ATTRIBUTES:
                hint = difflib.get_close_matches(key, ATTRIBUTES, n=1)
                suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
                msg = f"rule {self.name!r}: unknown attribute {key!r}{suggestion}"
                raise ConfigurationError(msg)
        for code in self.when.get("region", ()):
            Region.parse(code)

    def matches(self, attributes: Mapping[str, object]) -> bool:
        """Return whether the rule matches *attributes* (the unindexed reference check)."""
        for key, accepted in self.when.items():
            value = attributes.get(key)
            if value is None:
                return False
            if key == "region":
                if not set(Region.parse(value).ancestors) & accepted:
                    return False
            elif str(value) not in accepted:
                return False
        return True


@attrs.frozen
class RoutingDecision:
    """Where a request goes and why.

    Attributes:
        unit: the unit chosen.
        rule: the name of the rule that matched, or ``None`` when it went to triage.
        position: the rule's 1-based position in the table, or ``None``.
        attributes: the request attributes the decision was made on.
    """

    unit: str
    rule: str | None
    position: int | None
    attributes: Mapping[str, str]

    @property
    def triage(self) -> bool:
        """Return whether no rule matched and the request went to the triage unit."""
        return self.rule is None

    def record(self) -> dict[str, Any]:
        """Return the decision as recorded in an audit entry."""
        return {
            "unit": self.unit,
            "rule": self.rule if self.rule is not None else "triage",
            "position": self.position,
            "attributes": dict(self.attributes),
        }


class RoutingTable:
    """Ordered routing rules, indexed by the attribute values they match.

    Args:
        rules: the rules, first match wins.
        triage: the unit that takes requests no rule matches (``None``: refuse them).

    Raises:
        ConfigurationError: two rules share a name.
    """

    def __init__(self, rules: Sequence[Rule], *, triage: str | None = None) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.triage = triage
        names = [r.name for r in self.rules]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            msg = f"routing rule names must be unique; repeated: {', '.join(duplicates)}"
            raise ConfigurationError(msg)
        # Bit i of a mask stands for rule i: the lowest set bit is the first match.
        self._everything = (1 << len(self.rules)) - 1
        self._wildcard: dict[str, int] = {}
        self._index: dict[str, dict[str, int]] = {}
        for key in ATTRIBUTES:
            wildcard = 0
            index: dict[str, int] = {}
            for i, rule in enumerate(self.rules):
                accepted = rule.when.get(key)
                if accepted is None:
                    wildcard |= 1 << i
                    continue
                for value in accepted:
                    index[value] = index.get(value, 0) | (1 << i)
            if index:  # attributes no rule looks at cost nothing
                self._wildcard[key] = wildcard
                self._index[key] = index

    def __repr__(self) -> str:
        return f"RoutingTable({len(self.rules)} rules, triage={self.triage!r})"

    def __len__(self) -> int:
        return len(self.rules)

    def route(self, attributes: Mapping[str, object]) -> RoutingDecision:
        """Return where a request with *attributes* goes.

        Args:
            attributes: attribute -> value (``None`` or absent: unknown, so only rules not
                naming the attribute can match).

        Raises:
            RoutingError: no rule matches and the table has no triage unit, or the
                ``region`` is not a Kemendagri code.
        """
        known = {k: str(v) for k, v in attributes.items() if k in ATTRIBUTES and v is not None}
        mask = self._everything
        for key, index in self._index.items():
            value = known.get(key)
            allowed = self._wildcard[key]
            if value is not None:
                if key == "region":
                    try:
                        codes = Region.parse(value).ancestors
                    except ConfigurationError as exc:
                        raise RoutingError(f"cannot route: {exc}") from None
                    for code in codes:
                        allowed |= index.get(code, 0)
                else:
                    allowed |= index.get(value, 0)
            mask &= allowed
            if not mask:
                break
        if mask:
            position = (mask & -mask).bit_length() - 1
            rule = self.rules[position]
            return RoutingDecision(rule.unit, rule.name, position + 1, known)
        if self.triage is not None:
            return RoutingDecision(self.triage, None, None, known)
        shown = ", ".join(f"{k}={v}" for k, v in sorted(known.items())) or "no attributes"
        msg = (
            f"no routing rule matches ({shown}) and no triage unit is declared: add a rule "
            "or a 'triage' unit to the routing configuration"
        )
        raise RoutingError(msg)


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
            "unit": self.unit,
            "assignee": self.assignee,
            "strategy": self.strategy,
            "reason": self.reason,
            "load": dict(self.load),
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


# --- configuration -----------------------------------------------------------------------


@attrs.frozen
class RoutingConfig:
    """Everything a routing file declares.

    Attributes:
        table: the routing rules and triage unit.
        fields: attribute -> the request data field it is read from.
        units: unit -> its assignment policy.
        disposition_roles: the roles that may issue a disposisi.
        access: separation-of-duties rules kept outside the SOP.
        delegations: the acting officials (Plt/Plh) in force.
    """

    table: RoutingTable
    fields: Mapping[str, str] = attrs.field(factory=dict)
    units: Mapping[str, AssignmentPolicy] = attrs.field(factory=dict)
    disposition_roles: tuple[str, ...] = ()
    access: AccessPolicy = attrs.field(factory=AccessPolicy)
    delegations: DelegationRegistry = attrs.field(factory=DelegationRegistry)

    def attributes(self, service: str, data: Mapping[str, Any]) -> dict[str, object]:
        """Return a request's routing attributes: its service and the mapped data fields."""
        out: dict[str, object] = {"service": service}
        for key in ATTRIBUTES:
            if key == "service":
                continue
            value = data.get(self.fields.get(key, key))
            if value is not None and value != "":
                out[key] = value
        return out


_TOP = ("triage", "fields", "rules", "units", "disposition", "access")


def _names(value: Any, path: str, problems: list[Problem]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, float) or (
        isinstance(value, list) and any(isinstance(v, float) for v in value)
    ):
        problems.append(
            Problem(path, "quote codes with dots, e.g. '32.73': YAML reads 32.73 as a number")
        )
        return ()
    if isinstance(value, str | int) and not isinstance(value, bool):
        return (str(value),)
    if isinstance(value, list) and all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in value
    ):
        return tuple(str(v) for v in value)
    problems.append(Problem(path, "must be a value or a list of values"))
    return ()


def _unknown(mapping: Mapping[str, Any], known: Sequence[str], path: str) -> list[Problem]:
    out = []
    for key in mapping:
        hint = difflib.get_close_matches(str(key), known, n=1)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
        if key not in known:
            where = f"{path}.{key}" if path else str(key)
            out.append(Problem(where, f"unknown key {key!r}{suggestion}"))
    return out


def _rules(raw: Any, problems: list[Problem]) -> list[Rule]:
    rules: list[Rule] = []
    if not isinstance(raw, list):
        problems.append(Problem("rules", "must be a list of rules"))
        return rules
    for index, item in enumerate(raw):
        path = f"rules[{index}]"
        if not isinstance(item, Mapping):
            problems.append(Problem(path, "must be a mapping with name, when and unit"))
            continue
        problems.extend(_unknown(item, ("name", "when", "unit"), path))
        name, unit, when = item.get("name"), item.get("unit"), item.get("when") or {}
        if not isinstance(name, str) or not name:
            problems.append(Problem(f"{path}.name", "is required: the name the log records"))
            continue
        if not isinstance(unit, str) or not unit:
            problems.append(Problem(f"{path}.unit", "is required: the unit requests go to"))
            continue
        if not isinstance(when, Mapping):
            problems.append(Problem(f"{path}.when", "must map attributes to values"))
            continue
        values = {str(k): _names(v, f"{path}.when.{k}", problems) for k, v in when.items()}
        try:
            rules.append(Rule(name, unit, values))
        except ConfigurationError as exc:
            problems.append(Problem(f"{path}.when", str(exc)))
    return rules


def _units(raw: Any, problems: list[Problem]) -> dict[str, AssignmentPolicy]:
    units: dict[str, AssignmentPolicy] = {}
    if not isinstance(raw, Mapping):
        problems.append(Problem("units", "must map unit ids to assignment settings"))
        return units
    for unit, spec in raw.items():
        path = f"units.{unit}"
        if not isinstance(spec, Mapping):
            problems.append(Problem(path, "must be a mapping (strategy, officers)"))
            continue
        problems.extend(_unknown(spec, ("strategy", "officers", "skill_attribute"), path))
        strategy = spec.get("strategy", "manual")
        if strategy not in STRATEGIES:
            problems.append(Problem(f"{path}.strategy", f"must be one of {', '.join(STRATEGIES)}"))
            continue
        officers: list[Officer] = []
        for index, item in enumerate(spec.get("officers") or []):
            where = f"{path}.officers[{index}]"
            if isinstance(item, str | int) and not isinstance(item, bool):
                officers.append(Officer(str(item)))
            elif isinstance(item, Mapping) and "id" in item:
                problems.extend(_unknown(item, ("id", "skills"), where))
                skills = _names(item.get("skills"), f"{where}.skills", problems)
                officers.append(Officer(str(item["id"]), skills))
            else:
                problems.append(Problem(where, "must be an officer id or {id, skills}"))
        attribute = spec.get("skill_attribute", "category")
        if attribute not in ATTRIBUTES:
            problems.append(Problem(f"{path}.skill_attribute", f"must be one of {ATTRIBUTES}"))
            continue
        units[str(unit)] = AssignmentPolicy(str(unit), strategy, tuple(officers), attribute)
    return units


def routing_config_from_dict(data: Any, *, source: str | None = None) -> RoutingConfig:
    """Build a `RoutingConfig` from a mapping (a parsed routing file).

    Keys: ``triage`` (unit), ``fields`` (attribute -> data field), ``rules`` (list of
    ``{name, when, unit}``), ``units`` (unit -> ``{strategy, officers, skill_attribute}``),
    ``disposition`` (``{roles}``) and ``access`` (see `access_config_from_dict`).

    Raises:
        ConfigurationError: the document is invalid; one line per problem found.
    """
    problems: list[Problem] = []
    if not isinstance(data, Mapping):
        problems.append(Problem("", "a routing configuration must be a mapping"))
        data = {}
    problems.extend(_unknown(data, _TOP, ""))
    triage = data.get("triage")
    if triage is not None and (not isinstance(triage, str) or not triage):
        problems.append(Problem("triage", "must be a unit id"))
        triage = None
    fields: dict[str, str] = {}
    raw_fields = data.get("fields") or {}
    if not isinstance(raw_fields, Mapping):
        problems.append(Problem("fields", "must map attributes to request fields"))
        raw_fields = {}
    for key, value in raw_fields.items():
        if key not in ATTRIBUTES or key == "service":
            problems.append(Problem(f"fields.{key}", f"must be one of {', '.join(ATTRIBUTES[1:])}"))
        elif not isinstance(value, str):
            problems.append(Problem(f"fields.{key}", "must be the name of a request field"))
        else:
            fields[str(key)] = value
    rules = _rules(data.get("rules") or [], problems)
    units = _units(data.get("units") or {}, problems)
    disposition = data.get("disposition") or {}
    roles: tuple[str, ...] = ()
    if isinstance(disposition, Mapping):
        problems.extend(_unknown(disposition, ("roles",), "disposition"))
        roles = _names(disposition.get("roles"), "disposition.roles", problems)
    else:
        problems.append(Problem("disposition", "must be a mapping with roles"))
    names = [r.name for r in rules]
    problems.extend(
        Problem("rules", f"rule name {n!r} is used twice; names must be unique")
        for n in sorted({n for n in names if names.count(n) > 1})
    )
    policy, delegations = AccessPolicy(), DelegationRegistry()
    if data.get("access") is not None:
        try:
            policy, delegations = access_config_from_dict(data["access"])
        except ConfigurationError as exc:
            problems.extend(Problem("access", line) for line in str(exc).splitlines())
    if problems:
        located = [attrs.evolve(p, file=source) for p in problems]
        raise ConfigurationError("\n".join(p.render() for p in located))
    return RoutingConfig(
        RoutingTable(rules, triage=triage), fields, units, roles, policy, delegations
    )


def load_routing_config(path: str | Path) -> RoutingConfig:
    """Load a routing configuration from a YAML or JSON file.

    Raises:
        ConfigurationError: the file cannot be read or parsed, or is invalid.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{path}: cannot read the routing configuration ({exc})"
        raise ConfigurationError(msg) from None
    try:
        data = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        msg = f"{path}: cannot parse the routing configuration ({exc})"
        raise ConfigurationError(msg) from None
    return routing_config_from_dict(data, source=str(path))
