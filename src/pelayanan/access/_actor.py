"""Actors and the basic check an SOP asks for: a role, and separation of duties."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from pelayanan.access._ids import actor_id, id_key, role_names, unit_id, unit_ids
from pelayanan.exceptions import PermissionDeniedError


@attrs.frozen
class Actor:
    """Someone (or something) that acts on requests.

    The id is normalised (`normalize_id`) when the actor is made, so ``"ver-1 "``,
    ``"ver\u200b-1"`` and its full-width spelling are all the actor ``"ver-1"``.

    Attributes:
        id: a stable identifier (an officer's employee number, a citizen account id).
        roles: the roles this actor holds (a set of names; a bare string is a
            ``TypeError``).
        unit: the actor's home unit, if any: informative, and the unit a delegation
            made from this actor starts from; it is not checked (hosts that set it
            before `units` existed keep their behaviour).
        units: the units the actor belongs to.  When the actor declares any,
            `check_access` lets it act only on requests held by one of them, unless it
            holds a role the policy declares as spanning units (``cross_unit_roles``);
            an actor that declares none is not checked.

    Raises:
        InvalidIdError: the id or a unit id cannot be used (see `normalize_id`).
        TypeError: *roles* or *units* is a single string.
    """

    id: str = attrs.field(converter=actor_id)
    roles: frozenset[str] = attrs.field(converter=role_names, factory=frozenset)
    unit: str | None = attrs.field(converter=unit_id, default=None)
    units: frozenset[str] = attrs.field(converter=unit_ids, factory=frozenset, kw_only=True)


#: The actor recorded for what the library does by itself (SLA warnings, escalations).
SYSTEM = Actor("system", frozenset({"system"}))


def authorize(
    actor: Actor,
    action: str,
    *,
    allowed_roles: Sequence[str],
    not_by: Sequence[str] = (),
    history: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """Check that *actor* may take *action*; return the role that allows it.

    Args:
        actor: who is acting.
        action: the action name (for messages).
        allowed_roles: the roles the SOP allows; an empty sequence allows any actor.
        not_by: separation of duties: actions whose actors may not take this one.
        history: action name -> ids of the actors who took it on this request.

    Raises:
        PermissionDeniedError: the actor holds none of the roles (``rule="role"``) or took
            one of the *not_by* actions (``rule="separation_of_duties:<action>"``).
    """
    role = ""
    if allowed_roles:
        matching = sorted(set(allowed_roles) & actor.roles)
        if not matching:
            held = ", ".join(sorted(actor.roles)) or "none"
            msg = (
                f"actor {actor.id!r} may not {action!r}: it needs one of the roles "
                f"{', '.join(sorted(allowed_roles))}; actor holds {held}"
            )
            raise PermissionDeniedError(msg, rule="role")
        role = matching[0]
    for earlier in not_by:
        if took(actor.id, earlier, history):
            msg = (
                f"actor {actor.id!r} may not {action!r}: separation of duties forbids the "
                f"actor who did {earlier!r} on this request from doing it too"
            )
            raise PermissionDeniedError(msg, rule=f"separation_of_duties:{earlier}")
    return role


def took(person: str, action: str, history: Mapping[str, Sequence[object]] | None) -> bool:
    """Return whether *person* took *action*, by `id_key` (any spelling of the id)."""
    key = id_key(person)
    return any(isinstance(h, str) and id_key(h) == key for h in (history or {}).get(action, ()))
