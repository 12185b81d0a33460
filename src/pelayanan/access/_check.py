"""The full check: roles, units, separation of duties (by action and by subject), delegation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from pelayanan.access._actor import Actor, authorize, took
from pelayanan.access._delegation import Delegation, DelegationRegistry
from pelayanan.access._ids import MAX_ID_LENGTH, id_key, normalize_id, role_names, same_id
from pelayanan.exceptions import InvalidIdError, PermissionDeniedError


@attrs.frozen
class SubjectRule:
    """Separation of duties by subject: the actor may not be the person the request is about.

    Attributes:
        action: the action the rule guards (``*`` for every action).
        field: the request field holding the subject's actor id (e.g. ``employee_id``).
        sop: the SOP id the rule applies to (``*`` for every SOP).
    """

    action: str
    field: str
    sop: str = "*"

    def applies(self, sop: str, action: str) -> bool:
        """Return whether the rule guards *action* of SOP *sop*."""
        return self.sop in ("*", sop) and self.action in ("*", action)


@attrs.frozen
class AccessPolicy:
    """Access rules kept outside the SOP.

    Attributes:
        subject_rules: separation of duties by subject (see `SubjectRule`).
        cross_unit_roles: roles that act on requests held by any unit (e.g. an
            inspectorate, or the data protection officer); every other actor that
            declares its units acts only on its own units' requests.
    """

    subject_rules: tuple[SubjectRule, ...] = ()
    cross_unit_roles: frozenset[str] = attrs.field(converter=role_names, factory=frozenset)

    def subject_fields(self, sop: str, action: str) -> tuple[str, ...]:
        """Return the request fields naming people who may not take *action* of *sop*."""
        return tuple(r.field for r in self.subject_rules if r.applies(sop, action))


@attrs.frozen
class Grant:
    """Why an action was allowed: the role used, who acted, and whose authority.

    Attributes:
        role: the role that allowed it (``""`` when the action is open to anyone).
        actor: the id of the person who acted.
        delegation: the delegation used when acting for another official.
    """

    role: str
    actor: str
    delegation: Delegation | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        """Return the ids that took the action: the actor, and the principal if delegated."""
        if self.delegation is None:
            return (self.actor,)
        return (self.actor, self.delegation.principal)

    def authority(self) -> dict[str, str] | None:
        """Return the authority used, as recorded in an audit entry (``None``: one's own)."""
        return None if self.delegation is None else self.delegation.record()


def check_access(
    actor: Actor,
    action: str,
    *,
    allowed_roles: Sequence[str],
    not_by: Sequence[str] = (),
    history: Mapping[str, Sequence[str]] | None = None,
    subject_fields: Sequence[str] = (),
    data: Mapping[str, Any] | None = None,
    on_behalf_of: str | None = None,
    delegations: DelegationRegistry | None = None,
    at: dt.datetime | None = None,
    unit: str | None = None,
    policy: AccessPolicy | None = None,
) -> Grant:
    """Check every access rule for *actor* taking *action*; return the grant.

    With *on_behalf_of*, the actor acts with that official's authority: the delegation
    in force decides the roles (and the unit scope), and separation of duties applies
    to both people.  Ids are compared by `id_key`.

    Args:
        actor: who acts.
        action: the action name.
        allowed_roles: the roles the SOP allows (empty: anyone).
        not_by: actions whose actors may not take this one (the SOP's ``not_by``).
        history: action name -> ids of those who took it on this request.
        subject_fields: request fields naming people who may not take this action.
        data: the request's fields, read for *subject_fields*.
        on_behalf_of: the id of the official whose authority the actor claims.
        delegations: where delegations are looked up (required with *on_behalf_of*).
        at: the instant of the action (required with *on_behalf_of*).
        unit: the unit holding the request: checked against the actor's units and
            against unit-limited delegations.
        policy: the access policy, read for ``cross_unit_roles``.

    Returns:
        The role used, the actor and the delegation (if any).

    Raises:
        PermissionDeniedError: ``id`` (an unusable *on_behalf_of*), ``role``, ``unit``,
            ``separation_of_duties:<action>``, ``separation_of_duties:subject:<field>``
            or ``delegation:<reason>``.
    """
    delegation = _delegation_for(actor, action, on_behalf_of, delegations, at, unit)
    effective = actor
    if delegation is not None:
        effective = Actor(actor.id, delegation.roles, delegation.unit or actor.unit)
    try:
        role = authorize(effective, action, allowed_roles=allowed_roles)
    except PermissionDeniedError as exc:
        if delegation is None:
            raise
        msg = f"{exc} (acting for {delegation.principal!r} under {delegation.id!r})"
        raise PermissionDeniedError(msg, rule=exc.rule) from None
    if delegation is None:
        _check_unit(actor, action, unit, policy)
    people = (actor.id,) if delegation is None else (actor.id, delegation.principal)
    for person in people:
        who = "the actor" if person == actor.id else f"the principal {person!r}"
        for earlier in not_by:
            if took(person, earlier, history):
                msg = (
                    f"actor {actor.id!r} may not {action!r}: separation of duties forbids "
                    f"{who}, who did {earlier!r} on this request, from doing it too"
                )
                raise PermissionDeniedError(msg, rule=f"separation_of_duties:{earlier}")
        for field in subject_fields:
            if _is_subject(person, (data or {}).get(field)):
                msg = (
                    f"actor {actor.id!r} may not {action!r}: {who} is the subject of this "
                    f"request (field {field!r}); someone else must do it"
                )
                raise PermissionDeniedError(msg, rule=f"separation_of_duties:subject:{field}")
    return Grant(role, actor.id, delegation)


def _delegation_for(  # noqa: PLR0917 (the check_access arguments it reads, in order)
    actor: Actor,
    action: str,
    on_behalf_of: str | None,
    delegations: DelegationRegistry | None,
    at: dt.datetime | None,
    unit: str | None,
) -> Delegation | None:
    """Return the delegation *actor* uses for *on_behalf_of*, or ``None`` for its own."""
    if on_behalf_of is None:
        return None
    try:
        principal = normalize_id(on_behalf_of, what="on_behalf_of")
    except InvalidIdError as exc:
        raise PermissionDeniedError(f"actor {actor.id!r}: {exc}", rule="id") from None
    if same_id(principal, actor.id):
        return None
    if delegations is None or at is None:
        msg = (
            f"actor {actor.id!r} claims {principal!r}'s authority but the desk has no "
            "delegations configured"
        )
        raise PermissionDeniedError(msg, rule="delegation:none")
    return delegations.resolve(actor.id, principal, action=action, at=at, unit=unit)


def _check_unit(actor: Actor, action: str, unit: str | None, policy: AccessPolicy | None) -> None:
    """Refuse an actor with units acting on a request another unit holds."""
    units = actor.units
    if unit is None or not units:
        return
    if id_key(unit) in {id_key(u) for u in units}:
        return
    spanning = policy.cross_unit_roles if policy is not None else frozenset()
    if actor.roles & spanning:
        return
    msg = (
        f"actor {actor.id!r} may not {action!r}: the request is held by unit {unit!r}, "
        f"and the actor belongs to {', '.join(sorted(units))}; a role spanning units "
        "(cross_unit_roles) or a delegation is needed"
    )
    raise PermissionDeniedError(msg, rule="unit")


def _is_subject(person: str, subject: Any) -> bool:
    """Return whether the request field value *subject* names *person*."""
    if isinstance(subject, int) and not isinstance(subject, bool):
        subject = str(subject)
    if not isinstance(subject, str) or len(subject) > 4 * MAX_ID_LENGTH:
        return False
    return id_key(subject) == id_key(person)
