"""Routing rules and region codes: which unit a request goes to.

A `RoutingTable` holds ordered rules.  Each rule matches request attributes (``service``,
``category``, ``channel``, ``priority``, ``region``) and names a unit; the first rule
that matches wins.  A request no rule matches goes to the table's triage unit, or raises
`RoutingError` when none is declared: it never vanishes ("no wrong door", see
docs/sources.md, Complaints).

Rules are indexed by the attribute values they match: for every attribute the table
keeps, per value, the set of rules that accept it as a bit mask (plus the mask of rules
that do not look at that attribute).  A decision is one AND of a few masks per attribute
and a lowest-set-bit, so 1,000 rules cost about what 10 do.

Regions use the Kemendagri code hierarchy (Permendagri 137/2017 tentang Kode dan Data
Wilayah Administrasi Pemerintahan, as amended by Permendagri 72/2019 [S]): ``32``
province, ``32.73`` kabupaten/kota, ``32.73.01`` kecamatan, ``32.73.01.1001``
kelurahan/desa.  A rule on ``32.73`` matches every code under it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from pelayanan._config import suggest
from pelayanan.audit.kinds import ATTRIBUTES as ATTRIBUTES_FIELD
from pelayanan.audit.kinds import POSITION, RULE, TRIAGE_RULE, UNIT
from pelayanan.exceptions import ConfigurationError, RoutingError

__all__ = ["ATTRIBUTES", "REGION_LEVELS", "Region", "RoutingDecision", "RoutingTable", "Rule"]

#: The request attributes a rule may match.
ATTRIBUTES = ("service", "category", "channel", "priority", "region")
#: The levels of the Kemendagri region code, from the top.
REGION_LEVELS = ("provinsi", "kabupaten/kota", "kecamatan", "kelurahan/desa")

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
                msg = f"rule {self.name!r}: unknown attribute {key!r}{suggest(key, ATTRIBUTES)}"
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
            UNIT: self.unit,
            RULE: self.rule if self.rule is not None else TRIAGE_RULE,
            POSITION: self.position,
            ATTRIBUTES_FIELD: dict(self.attributes),
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
                    except ConfigurationError:
                        # The value comes from the request: name the attribute, not the value.
                        msg = (
                            "cannot route: the region attribute is not a Kemendagri region "
                            "code (2 digits, then .2, .2, .4, e.g. '32.73.01.1001')"
                        )
                        raise RoutingError(msg) from None
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
