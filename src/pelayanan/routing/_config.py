"""The routing configuration file: rules, unit policies, disposisi roles, access."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import yaml

from pelayanan.access import AccessPolicy, DelegationRegistry, access_config_from_dict
from pelayanan.exceptions import ConfigurationError, Problem
from pelayanan.routing._assignment import STRATEGIES, AssignmentPolicy, Officer
from pelayanan.routing._rules import ATTRIBUTES, RoutingTable, Rule

__all__ = ["RoutingConfig", "load_routing_config", "routing_config_from_dict"]


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
