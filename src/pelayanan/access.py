"""Who may act: actors, role checks, separation of duties and delegation (Plt/Plh).

`authorize` is the basic check the SOP asks for (the actor holds one of the action's
roles; it did not take one of the action's ``not_by`` actions on this request).
`check_access` adds what the SOP language cannot say yet: the actor is not the person the
request is about (`AccessPolicy`, e.g. a staff member approving their own leave), and
acting with another official's authority (`Delegation`, looked up in a
`DelegationRegistry`).  Every refusal is a `PermissionDeniedError` whose ``rule`` names
the rule that refused it, so the desk can record it in the audit log.

Acting officials: a *Plh* (pelaksana harian) stands in while the official is temporarily
absent, a *Plt* (pelaksana tugas) while the post is vacant.  Both act under a mandate,
which does not extend to strategic decisions changing the legal status of organisation,
staffing or budget (UU 30/2014 tentang Administrasi Pemerintahan, Pasal 14 ayat (7) and
Pasal 34 [S]).  Which actions a delegation covers is therefore always explicit: its roles
and, optionally, a list of actions and a unit.

One person, one spelling: every actor and official id is normalised where it enters
(`normalize_id`: Unicode NFKC, zero-width characters removed, surrounding spaces
stripped; empty ids, control characters and ids longer than `MAX_ID_LENGTH` refused),
and ids are compared by `id_key`, which ignores case unless the host declares its ids
case-sensitive with `set_case_sensitive_ids`.  The recorded id keeps its case.

Units: an actor that declares the units it belongs to (`Actor.units`) may act only on
requests held by one of them, unless it holds a role the `AccessPolicy` declares as
spanning units (``cross_unit_roles``).  An actor that declares no unit is not checked,
as before units were known.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from pelayanan._config import (
    Problems,
    join,
    read_instant,
    read_list,
    read_mapping,
    read_names,
)
from pelayanan.clock import ensure_aware
from pelayanan.exceptions import ConfigurationError, InvalidIdError, PermissionDeniedError

__all__ = [
    "DELEGATION_KINDS",
    "MAX_ID_LENGTH",
    "SYSTEM",
    "AccessPolicy",
    "Actor",
    "Delegation",
    "DelegationRegistry",
    "Grant",
    "SubjectRule",
    "access_config_from_dict",
    "authorize",
    "case_sensitive_ids",
    "check_access",
    "id_key",
    "normalize_id",
    "same_id",
    "set_case_sensitive_ids",
]

#: The kinds of acting official: ``plt`` (post vacant), ``plh`` (official temporarily absent).
DELEGATION_KINDS = ("plt", "plh")


#: The longest actor, official, unit or delegation id, in characters (after normalisation).
MAX_ID_LENGTH = 128

# Characters that render as nothing: removed, so "ver\u200b-1" is "ver-1".
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
# Control, format (bidi overrides), surrogate, private-use and line/paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})

_id_rules = {"case_sensitive": False}


def set_case_sensitive_ids(enabled: bool) -> None:
    """Declare whether the host's actor and official ids are case-sensitive.

    By default ids that differ only in case are the same person (``ver-1`` and
    ``VER-1``): separation of duties, delegations and unit checks compare `id_key`.
    A host whose identity provider issues case-sensitive ids calls this once, before it
    builds delegations, with ``True``.

    Args:
        enabled: ``True`` to compare ids exactly (after normalisation).
    """
    _id_rules["case_sensitive"] = bool(enabled)


def case_sensitive_ids() -> bool:
    """Return whether ids are compared case-sensitively (see `set_case_sensitive_ids`)."""
    return _id_rules["case_sensitive"]


def _clean(text: str) -> str:
    if text.isascii():
        return text.strip()  # ASCII is already NFKC and holds no invisible character
    for _ in range(3):  # a removed invisible character can let NFKC compose anew
        cleaned = unicodedata.normalize("NFKC", text.translate(_INVISIBLE)).strip()
        if cleaned == text:
            break
        text = cleaned
    return text


def normalize_id(value: object, *, what: str = "actor id") -> str:
    """Return the one spelling of an id: NFKC, no invisible characters, no surrounding space.

    Args:
        value: the id as given.
        what: what the id names, for the message (``actor id``, ``delegate``).

    Returns:
        The normalised id (its case kept).

    Raises:
        InvalidIdError: the id is not text, is empty, is longer than `MAX_ID_LENGTH`, or
            holds a control or format character (NUL, a bidi override, a line break).
    """
    if not isinstance(value, str):
        raise InvalidIdError(what, f"must be text, got a {type(value).__name__}")
    # Bound the work before normalising: NFKC can expand a character up to 18 times.
    if len(value) > 4 * MAX_ID_LENGTH:
        raise InvalidIdError(what, f"is longer than the limit MAX_ID_LENGTH ({MAX_ID_LENGTH})")
    text = _clean(value)
    if not text:
        raise InvalidIdError(what, "is empty (or only spaces); give the id")
    if len(text) > MAX_ID_LENGTH:
        raise InvalidIdError(what, f"is longer than the limit MAX_ID_LENGTH ({MAX_ID_LENGTH})")
    if text.isascii():
        if not text.isprintable():  # the ASCII control characters, NUL included
            raise InvalidIdError(what, "holds a control or format character; remove it")
    elif any(unicodedata.category(c) in _REFUSED_CATEGORIES for c in text):
        raise InvalidIdError(what, "holds a control or format character; remove it")
    return text


def id_key(value: str) -> str:
    """Return the key ids are compared by: the id itself, case-folded unless ids are case-sensitive.

    *value* should be normalised already (`normalize_id`); an id recorded before
    normalisation existed is cleaned without being refused.
    """
    text = _clean(value)
    if _id_rules["case_sensitive"]:
        return text
    if text.isascii():
        return text.lower()  # the same as casefold() and NFKC for ASCII, several times faster
    return unicodedata.normalize("NFKC", text.casefold())


def same_id(a: str, b: str) -> bool:
    """Return whether two ids name the same person (see `id_key`)."""
    return id_key(a) == id_key(b)


def _actor_id(value: object) -> str:
    return normalize_id(value, what="actor id")


def _names_of_kind(value: Iterable[str], what: str) -> frozenset[str]:
    if isinstance(value, str | bytes):
        msg = (
            f"{what} must be a collection of names, not one string (which would be read as "
            f"its letters): write {{{value!r}}} or [{value!r}]"
        )
        raise TypeError(msg)
    return frozenset(value)


def _roles(value: Iterable[str]) -> frozenset[str]:
    return _names_of_kind(value, "roles")


def _names(value: Iterable[str]) -> frozenset[str]:
    return _names_of_kind(value, "names")


def _units(value: Iterable[str]) -> frozenset[str]:
    return frozenset(normalize_id(u, what="unit") for u in _names_of_kind(value, "units"))


def _unit(value: str | None) -> str | None:
    return None if value is None else normalize_id(value, what="unit")


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

    id: str = attrs.field(converter=_actor_id)
    roles: frozenset[str] = attrs.field(converter=_roles, factory=frozenset)
    unit: str | None = attrs.field(converter=_unit, default=None)
    units: frozenset[str] = attrs.field(converter=_units, factory=frozenset, kw_only=True)


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
        if _took(actor.id, earlier, history):
            msg = (
                f"actor {actor.id!r} may not {action!r}: separation of duties forbids the "
                f"actor who did {earlier!r} on this request from doing it too"
            )
            raise PermissionDeniedError(msg, rule=f"separation_of_duties:{earlier}")
    return role


def _took(person: str, action: str, history: Mapping[str, Sequence[object]] | None) -> bool:
    """Return whether *person* took *action*, by `id_key` (any spelling of the id)."""
    key = id_key(person)
    return any(isinstance(h, str) and id_key(h) == key for h in (history or {}).get(action, ()))


def _delegation_id(value: object) -> str:
    return normalize_id(value, what="delegation id")


def _principal(value: object) -> str:
    return normalize_id(value, what="delegation principal")


def _delegate(value: object) -> str:
    return normalize_id(value, what="delegation delegate")


# --- delegation ------------------------------------------------------------------------


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
    roles: frozenset[str] = attrs.field(converter=_names)
    valid_from: dt.datetime = attrs.field(converter=_aware)
    valid_until: dt.datetime = attrs.field(converter=_aware)
    actions: frozenset[str] = attrs.field(converter=_names, factory=frozenset)
    unit: str | None = attrs.field(converter=_unit, default=None)

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


# --- the full check ----------------------------------------------------------------------


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
    cross_unit_roles: frozenset[str] = attrs.field(converter=_roles, factory=frozenset)

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
            if _took(person, earlier, history):
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


# --- configuration -----------------------------------------------------------------------

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
    spec = read_mapping(item, path, problems)
    if spec is None:
        return None
    problems.unknown(spec, _SEPARATION_KEYS, path)
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
    delegations: list[Delegation] = []
    where = join(path, "delegations")
    for index, item in enumerate(read_list(spec.get("delegations") or [], where, problems) or ()):
        made = _delegation(item, f"{where}[{index}]", problems)
        if made is not None:
            delegations.append(made)
    rules: list[SubjectRule] = []
    where = join(path, "separation")
    for index, item in enumerate(read_list(spec.get("separation") or [], where, problems) or ()):
        rule = _separation(item, f"{where}[{index}]", problems)
        if rule is not None:
            rules.append(rule)
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
