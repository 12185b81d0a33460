"""Acting officials (Plt/Plh): a `Delegation` and the registry that resolves one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

import attrs

from pelayanan.access._ids import id_key, names, normalize_id, same_id, unit_id
from pelayanan.clock import ensure_aware
from pelayanan.exceptions import ConfigurationError, PermissionDeniedError

#: The kinds of acting official: ``plt`` (post vacant), ``plh`` (official temporarily absent).
DELEGATION_KINDS = ("plt", "plh")


def _delegation_id(value: object) -> str:
    return normalize_id(value, what="delegation id")


def _principal(value: object) -> str:
    return normalize_id(value, what="delegation principal")


def _delegate(value: object) -> str:
    return normalize_id(value, what="delegation delegate")


def _aware(value: dt.datetime) -> dt.datetime:
    return ensure_aware(value, what="delegation validity bound")


@attrs.frozen
class Delegation:
    """An acting official's authority: *delegate* may act with *principal*'s roles.

    The delegation is valid from *valid_from* (inclusive) to *valid_until* (exclusive).

    Attributes:
        id: a stable id, e.g. the number of the appointment letter (surat perintah).
        principal: the id of the official whose authority is used.
        delegate: the id of the acting official (the Plt or Plh).
        kind: ``plt`` or ``plh``.
        roles: the roles of the principal the delegate may use.
        valid_from: when the delegation starts (timezone-aware).
        valid_until: when it ends (timezone-aware, exclusive).
        actions: the actions it covers; empty means every action the roles allow.
        unit: the unit it is limited to (requests held by that unit), if any.
    """

    id: str = attrs.field(converter=_delegation_id)
    principal: str = attrs.field(converter=_principal)
    delegate: str = attrs.field(converter=_delegate)
    kind: str = attrs.field(validator=attrs.validators.in_(DELEGATION_KINDS))
    roles: frozenset[str] = attrs.field(converter=names)
    valid_from: dt.datetime = attrs.field(converter=_aware)
    valid_until: dt.datetime = attrs.field(converter=_aware)
    actions: frozenset[str] = attrs.field(converter=names, factory=frozenset)
    unit: str | None = attrs.field(converter=unit_id, default=None)

    def __attrs_post_init__(self) -> None:
        """Refuse a delegation to oneself, without roles, or with an empty period."""
        if same_id(self.principal, self.delegate):
            msg = f"delegation {self.id!r}: an official cannot delegate to themself"
            raise ConfigurationError(msg)
        if not self.roles:
            msg = f"delegation {self.id!r}: name the roles the delegate may use"
            raise ConfigurationError(msg)
        if self.valid_until <= self.valid_from:
            msg = f"delegation {self.id!r}: valid_until must be later than valid_from"
            raise ConfigurationError(msg)

    def active(self, at: dt.datetime) -> bool:
        """Return whether the delegation is in force at *at*."""
        return self.valid_from <= at < self.valid_until

    def record(self) -> dict[str, str]:
        """Return the authority as recorded in an audit entry."""
        since = self.valid_from.astimezone(dt.UTC).isoformat(timespec="microseconds")
        return {
            "principal": self.principal,
            "delegation": self.id,
            "kind": self.kind,
            # The entry time format (UTC, ``Z``): attribution reads when the authority began.
            "valid_from": since[:-6] + "Z",
        }


class DelegationRegistry:
    """The delegations in force, looked up by delegate and principal.

    Args:
        delegations: the initial delegations.

    Raises:
        ConfigurationError: two delegations share an id.
    """

    def __init__(self, delegations: Iterable[Delegation] = ()) -> None:
        self._by_id: dict[str, Delegation] = {}
        self._by_pair: dict[tuple[str, str], list[Delegation]] = {}
        for delegation in delegations:
            self.add(delegation)

    def __repr__(self) -> str:
        return f"DelegationRegistry({len(self._by_id)} delegations)"

    def __iter__(self) -> Iterator[Delegation]:
        return iter(sorted(self._by_id.values(), key=lambda d: d.id))

    def __len__(self) -> int:
        return len(self._by_id)

    def add(self, delegation: Delegation) -> None:
        """Register *delegation*.

        Raises:
            ConfigurationError: a delegation with the same id is already registered.
        """
        if delegation.id in self._by_id:
            msg = f"delegation id {delegation.id!r} is registered twice; ids must be unique"
            raise ConfigurationError(msg)
        self._by_id[delegation.id] = delegation
        pair = (id_key(delegation.delegate), id_key(delegation.principal))
        self._by_pair.setdefault(pair, []).append(delegation)

    def resolve(
        self,
        delegate: str,
        principal: str,
        *,
        action: str,
        at: dt.datetime,
        unit: str | None = None,
    ) -> Delegation:
        """Return the delegation that lets *delegate* take *action* for *principal* at *at*.

        Args:
            delegate: the id of the acting official.
            principal: the id of the official whose authority is claimed.
            action: the action to take.
            at: the instant of the action.
            unit: the unit holding the request, checked against a unit-limited delegation.

        Raises:
            PermissionDeniedError: no delegation from *principal* to *delegate*
                (``delegation:none``), none in force at *at* (``delegation:expired`` or
                ``delegation:not_yet_valid``), or none covering the action and unit
                (``delegation:out_of_scope``).
        """
        ensure_aware(at, what="action time")
        delegate = normalize_id(delegate, what="delegate")
        principal = normalize_id(principal, what="on_behalf_of")
        found = self._by_pair.get((id_key(delegate), id_key(principal)), [])
        if not found:
            msg = f"actor {delegate!r} holds no delegation (Plt/Plh) from {principal!r}"
            raise PermissionDeniedError(msg, rule="delegation:none")
        active = [d for d in found if d.active(at)]
        if not active:
            if all(d.valid_until <= at for d in found):
                last = max(found, key=lambda d: d.valid_until)
                msg = (
                    f"delegation {last.id!r} ({last.kind}) from {principal!r} to {delegate!r} "
                    f"expired at {last.valid_until.isoformat()}"
                )
                raise PermissionDeniedError(msg, rule="delegation:expired")
            first = min(found, key=lambda d: d.valid_from)
            msg = (
                f"delegation {first.id!r} ({first.kind}) from {principal!r} to {delegate!r} "
                f"starts only at {first.valid_from.isoformat()}"
            )
            raise PermissionDeniedError(msg, rule="delegation:not_yet_valid")
        for delegation in sorted(active, key=lambda d: d.id):
            if delegation.actions and action not in delegation.actions:
                continue
            if (
                delegation.unit is not None
                and unit is not None
                and not same_id(delegation.unit, unit)
            ):
                continue
            return delegation
        scopes = "; ".join(
            f"{d.id}: actions {', '.join(sorted(d.actions)) or 'any'}, unit {d.unit or 'any'}"
            for d in active
        )
        msg = (
            f"delegation from {principal!r} to {delegate!r} does not cover {action!r} on a "
            f"request held by {unit or 'no unit'!r} ({scopes})"
        )
        raise PermissionDeniedError(msg, rule="delegation:out_of_scope")
