"""The routing configuration file: rules, unit policies, disposisi roles, access."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from pelayanan._config import (
    Problems,
    join,
    read_config_file,
    read_each,
    read_list,
    read_mapping,
    read_text,
    suggest,
)
from pelayanan.access import AccessPolicy, DelegationRegistry, read_access_config
from pelayanan.exceptions import ConfigurationError
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


def _values(value: Any, path: str, problems: Problems) -> tuple[str, ...]:
    """Read one attribute value or a list of them (codes may be written as integers)."""
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if any(isinstance(v, float) for v in items):
        problems.add(path, "quote codes with dots, e.g. '32.73': YAML reads 32.73 as a number")
        return ()
    if all(isinstance(v, str | int) and not isinstance(v, bool) for v in items):
        return tuple(str(v) for v in items)
    problems.add(path, "must be a value or a list of values")
    return ()


def _rule(item: Any, path: str, problems: Problems) -> Rule | None:
    spec = read_mapping(item, path, problems)
    if spec is None:
        return None
    problems.unknown(spec, ("name", "when", "unit"), path)
    name = read_text(spec.get("name", ""), f"{path}.name", problems, required=True)
    unit = read_text(spec.get("unit", ""), f"{path}.unit", problems, required=True)
    when = read_mapping(spec.get("when") or {}, f"{path}.when", problems)
    if name is None or unit is None or when is None:
        return None
    values = {str(k): _values(v, f"{path}.when.{k}", problems) for k, v in when.items()}
    try:
        return Rule(name, unit, values)
    except ConfigurationError as exc:
        problems.absorb(exc, f"{path}.when")
        return None


def _rules(raw: Any, problems: Problems) -> list[Rule]:
    rules = read_each(raw, "rules", problems, _rule)
    names = [r.name for r in rules]
    for twice in sorted({n for n in names if names.count(n) > 1}):
        problems.add("rules", f"rule name {twice!r} is used twice; names must be unique")
    return rules


def _officer(item: Any, path: str, problems: Problems) -> Officer | None:
    if isinstance(item, str | int) and not isinstance(item, bool):
        return Officer(str(item))
    if isinstance(item, Mapping) and "id" in item:
        problems.unknown(item, ("id", "skills"), path)
        return Officer(str(item["id"]), _values(item.get("skills"), f"{path}.skills", problems))
    problems.add(path, "must be an officer id or {id, skills}")
    return None


def _unit(unit: str, spec: Any, problems: Problems) -> AssignmentPolicy | None:
    path = join("units", unit)
    spec = read_mapping(spec, path, problems)
    if spec is None:
        return None
    problems.unknown(spec, ("strategy", "officers", "skill_attribute"), path)
    strategy = spec.get("strategy", "manual")
    if strategy not in STRATEGIES:
        message = f"must be one of {', '.join(STRATEGIES)}{suggest(str(strategy), STRATEGIES)}"
        problems.add(f"{path}.strategy", message)
    raw = read_list(spec.get("officers") or [], f"{path}.officers", problems) or ()
    officers = [_officer(item, f"{path}.officers[{i}]", problems) for i, item in enumerate(raw)]
    attribute = spec.get("skill_attribute", "category")
    if attribute not in ATTRIBUTES:
        problems.add(f"{path}.skill_attribute", f"must be one of {', '.join(ATTRIBUTES)}")
    if strategy not in STRATEGIES or attribute not in ATTRIBUTES:
        return None
    found = tuple(o for o in officers if o is not None)
    return AssignmentPolicy(unit, strategy, found, attribute)


def _units(raw: Any, problems: Problems) -> dict[str, AssignmentPolicy]:
    units: dict[str, AssignmentPolicy] = {}
    for unit, spec in (read_mapping(raw, "units", problems) or {}).items():
        policy = _unit(str(unit), spec, problems)
        if policy is not None:
            units[str(unit)] = policy
    return units


def _fields(raw: Any, problems: Problems) -> dict[str, str]:
    fields: dict[str, str] = {}
    allowed = ATTRIBUTES[1:]
    for key, value in (read_mapping(raw, "fields", problems) or {}).items():
        if key not in allowed:
            message = f"must be one of {', '.join(allowed)}{suggest(str(key), allowed)}"
            problems.add(f"fields.{key}", message)
        elif not isinstance(value, str):
            problems.add(f"fields.{key}", "must be the name of a request field")
        else:
            fields[str(key)] = value
    return fields


def routing_config_from_dict(
    data: Any, *, source: str | None = None, lines: Mapping[str, int] | None = None
) -> RoutingConfig:
    """Build a `RoutingConfig` from a mapping (a parsed routing file).

    Keys: ``triage`` (unit), ``fields`` (attribute -> data field), ``rules`` (list of
    ``{name, when, unit}``), ``units`` (unit -> ``{strategy, officers, skill_attribute}``),
    ``disposition`` (``{roles}``) and ``access`` (see `access_config_from_dict`).

    Args:
        data: the parsed document.
        source: the file it came from, for messages.
        lines: key path -> line in that file, for messages.

    Returns:
        The configuration.

    Raises:
        ConfigurationError: the document is invalid; ``problems`` lists every problem,
            one line each in the message.
    """
    problems = Problems(source=source, lines=lines)
    spec = read_mapping(data, "", problems) or {}
    problems.unknown(spec, _TOP)
    triage = spec.get("triage")
    if triage is not None:
        triage = read_text(triage, "triage", problems, required=True)
    fields = _fields(spec.get("fields") or {}, problems)
    rules = _rules(spec.get("rules") or [], problems)
    units = _units(spec.get("units") or {}, problems)
    disposition = read_mapping(spec.get("disposition") or {}, "disposition", problems) or {}
    problems.unknown(disposition, ("roles",), "disposition")
    roles = _values(disposition.get("roles"), "disposition.roles", problems)
    policy, delegations = AccessPolicy(), DelegationRegistry()
    if spec.get("access") is not None:
        policy, delegations = read_access_config(spec["access"], "access", problems)
    problems.check()
    return RoutingConfig(
        RoutingTable(rules, triage=triage), fields, units, roles, policy, delegations
    )


def load_routing_config(path: str | Path) -> RoutingConfig:
    """Load a routing configuration from a YAML or JSON file.

    Raises:
        ConfigurationError: the file cannot be read or parsed, or is invalid; ``problems``
            lists every problem with its file, line and key path.
    """
    # Anything but JSON is read as YAML (JSON is YAML too, but its line numbers differ).
    suffix = ".json" if Path(path).suffix.lower() == ".json" else ".yaml"
    data, lines = read_config_file(path, suffix=suffix)
    return routing_config_from_dict(data, source=str(path), lines=lines)
