"""The access configuration: delegations, separation by subject and cross-unit roles."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pelayanan._config import (
    Problems,
    join,
    read_each,
    read_instant,
    read_mapping,
    read_names,
)
from pelayanan.access._check import AccessPolicy, SubjectRule
from pelayanan.access._delegation import DELEGATION_KINDS, Delegation, DelegationRegistry
from pelayanan.exceptions import ConfigurationError

_DELEGATION_KEYS = (
    "id", "kind", "principal", "delegate", "roles", "actions", "unit", "valid_from",
    "valid_until",
)  # fmt: skip
_SEPARATION_KEYS = ("sop", "action", "not_subject")


def _delegation(item: Any, path: str, problems: Problems) -> Delegation | None:
    spec = read_mapping(item, path, problems)
    if spec is None:
        return None
    before = len(problems)
    problems.unknown(spec, _DELEGATION_KEYS, path)
    texts: dict[str, str] = {}
    for key in ("id", "kind", "principal", "delegate"):
        value = spec.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            problems.add(f"{path}.{key}", "is required and must be text")
        else:
            texts[key] = value
    if "kind" in texts and texts["kind"] not in DELEGATION_KINDS:
        problems.add(f"{path}.kind", "must be 'plt' or 'plh'")
    roles = read_names(spec.get("roles", []), f"{path}.roles", problems)
    if roles == ():
        problems.add(f"{path}.roles", "name at least one role the delegate may use")
    actions = read_names(spec.get("actions", []), f"{path}.actions", problems) or ()
    unit = spec.get("unit")
    if unit is not None and not isinstance(unit, str):
        problems.add(f"{path}.unit", "must be a unit id")
    start = read_instant(spec.get("valid_from"), f"{path}.valid_from", problems)
    end = read_instant(spec.get("valid_until"), f"{path}.valid_until", problems)
    if len(problems) > before or start is None or end is None:
        return None
    try:
        return Delegation(
            id=texts["id"],
            principal=texts["principal"],
            delegate=texts["delegate"],
            kind=texts["kind"],
            roles=frozenset(roles or ()),
            valid_from=start,
            valid_until=end,
            actions=frozenset(actions),
            unit=unit,
        )
    except ConfigurationError as exc:
        problems.absorb(exc, path)
        return None


def _separation(item: Any, path: str, problems: Problems) -> SubjectRule | None:
    spec = read_mapping(item, path, problems, known=_SEPARATION_KEYS)
    if spec is None:
        return None
    action, field, sop = spec.get("action", "*"), spec.get("not_subject"), spec.get("sop", "*")
    if not isinstance(field, str) or not field:
        problems.add(f"{path}.not_subject", "name the field holding the subject")
        return None
    if not isinstance(action, str) or not isinstance(sop, str):
        problems.add(path, "sop and action must be names (or '*')")
        return None
    return SubjectRule(action=action, field=field, sop=sop)


def read_access_config(
    data: Any, path: str, problems: Problems
) -> tuple[AccessPolicy, DelegationRegistry]:
    """Read an access configuration at *path* into *problems* (shared by routing files).

    Args:
        data: the mapping.
        path: its key path (``""`` for a document of its own, ``access`` in a routing file).
        problems: the collector every problem goes to.

    Returns:
        The policy and the registry (of what could be read; see *problems*).
    """
    spec = read_mapping(data, path, problems) or {}
    problems.unknown(spec, ("cross_unit_roles", "delegations", "separation"), path)
    spanning: tuple[str, ...] = ()
    if spec.get("cross_unit_roles") is not None:
        spanning = (
            read_names(spec["cross_unit_roles"], join(path, "cross_unit_roles"), problems) or ()
        )
    where = join(path, "delegations")
    delegations = read_each(spec.get("delegations") or [], where, problems, _delegation)
    where = join(path, "separation")
    rules = read_each(spec.get("separation") or [], where, problems, _separation)
    ids = [d.id for d in delegations]
    for twice in sorted({i for i in ids if ids.count(i) > 1}):
        problems.add(join(path, "delegations"), f"delegation id {twice!r} appears twice")
    policy = AccessPolicy(tuple(rules), cross_unit_roles=frozenset(spanning))
    return policy, DelegationRegistry(delegations)


def access_config_from_dict(
    data: Any, *, source: str | None = None, lines: Mapping[str, int] | None = None
) -> tuple[AccessPolicy, DelegationRegistry]:
    """Build the access policy and delegations from the ``access`` part of a configuration.

    The document holds ``delegations`` (a list of `Delegation` fields, instants as ISO
    8601 with an offset), ``separation`` (a list of ``{sop, action, not_subject}``) and
    ``cross_unit_roles`` (the roles that act on any unit's requests).

    Args:
        data: the mapping (e.g. the ``access`` key of ``examples/routing/pemkot.yaml``).
        source: the file it came from, for messages.
        lines: key path -> line in that file, for messages.

    Returns:
        The policy and the registry.

    Raises:
        ConfigurationError: the document is invalid; ``problems`` lists every problem,
            and the message has one line per problem.
    """
    problems = Problems(source=source, lines=lines)
    policy, registry = read_access_config(data, "", problems)
    problems.check()
    return policy, registry
