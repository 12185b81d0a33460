"""Who may act: actors, role checks and separation of duties."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

from pelayanan.exceptions import PermissionDeniedError

__all__ = ["SYSTEM", "Actor", "authorize"]


def _roles(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


@attrs.frozen
class Actor:
    """Someone (or something) that acts on requests.

    Attributes:
        id: a stable identifier (an officer's employee number, a citizen account id).
        roles: the roles this actor holds.
        unit: the unit the actor belongs to, if any.
    """

    id: str
    roles: frozenset[str] = attrs.field(converter=_roles, factory=frozenset)
    unit: str | None = None


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
        if actor.id in (history or {}).get(earlier, ()):
            msg = (
                f"actor {actor.id!r} may not {action!r}: separation of duties forbids the "
                f"actor who did {earlier!r} on this request from doing it too"
            )
            raise PermissionDeniedError(msg, rule=f"separation_of_duties:{earlier}")
    return role
