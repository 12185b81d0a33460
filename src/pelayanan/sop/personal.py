"""The ``privacy`` section of an SOP: which request fields are personal, and who may see them.

An SOP marks its personal fields (UU 27/2022 on personal data protection, see
docs/privacy.md) so the desk encrypts them before they reach the store or the audit log::

    privacy:
      reveal_roles: [verifier, supervisor]   # roles that may decrypt a field, for a purpose
      retention: arsip-pengaduan             # optional retention class (periods are configured
                                             # by the host app; none are shipped)
      fields:
        nama: {kind: name}
        nik: {kind: nik}
        telepon: {kind: phone}
        alamat: {kind: address, reveal_roles: [officer]}   # per-field override
        uraian: text                                        # shorthand for {kind: text}

Specific personal data (UU 27/2022 Pasal 4(2): health, biometric, genetic, criminal
record, children's data, personal finance) is revealed only by the roles listed in
``specific_reveal_roles`` (nobody when it is absent), never by the general
``reveal_roles``; a field's own ``reveal_roles`` still overrides both.  A request whose
field holds a value listed under ``exclude_from_public`` (e.g. ``kategori: [kdrt]`` for
domestic violence reports) is left out of the public feeds (Open311)::

    privacy:
      specific_reveal_roles: [kepala]
      exclude_from_public: {kategori: [kdrt, kekerasan-seksual]}
      fields:
        tanggal_lahir: {kind: date_of_birth}
        rekam_medis: {kind: health}

The section is optional; an SOP without it has no personal fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs

__all__ = [
    "PERSONAL_KINDS",
    "SPECIFIC_KINDS",
    "PersonalField",
    "PrivacyPolicy",
    "parse_privacy",
]

#: The specific personal data of UU 27/2022 Pasal 4(2): data and information on health,
#: biometric data, genetic data, criminal records, children's data and personal financial
#: data.  Revealed only by ``specific_reveal_roles`` unless a field names its own roles.
SPECIFIC_KINDS = ("health", "biometric", "genetic", "criminal_record", "child", "financial")
#: The kinds of personal value an SOP can mark.  ``nik`` values also index the data
#: subject (a keyed HMAC under the vault's master key), so a citizen's second request
#: joins their first.
PERSONAL_KINDS = ("name", "nik", "phone", "address", "date_of_birth", "text", *SPECIFIC_KINDS)

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SECTION_KEYS = (
    "fields",
    "reveal_roles",
    "retention",
    "specific_reveal_roles",
    "exclude_from_public",
)
_FIELD_KEYS = ("kind", "reveal_roles")


@attrs.frozen
class PersonalField:
    """One personal request field.

    Attributes:
        name: the field name (the key in a request's data).
        kind: one of `PERSONAL_KINDS`.
        reveal_roles: roles that may reveal this field; ``None`` means the SOP's
            ``reveal_roles``.
    """

    name: str
    kind: str
    reveal_roles: tuple[str, ...] | None = None


@attrs.frozen
class PrivacyPolicy:
    """An SOP's personal fields, who may reveal them, and its retention class.

    Attributes:
        fields: field name -> its definition.
        reveal_roles: roles that may reveal any personal field (unless overridden), except
            the specific kinds (`SPECIFIC_KINDS`).
        retention: the retention class of the SOP's records, or ``None`` for none.
        specific_reveal_roles: roles that may reveal fields of a specific kind (unless
            overridden); empty: nobody.
        exclude_from_public: field -> values: a request whose field holds one of them
            is left out of public feeds.
    """

    fields: Mapping[str, PersonalField] = attrs.field(factory=dict)
    reveal_roles: tuple[str, ...] = ()
    retention: str | None = None
    specific_reveal_roles: tuple[str, ...] = ()
    exclude_from_public: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)

    def is_personal(self, name: str) -> bool:
        """Return whether request field *name* is personal."""
        return name in self.fields

    def public(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Return *data* without its personal fields."""
        return {k: v for k, v in data.items() if k not in self.fields}

    def roles_for(self, name: str) -> tuple[str, ...]:
        """Return the roles that may reveal field *name* (empty: nobody)."""
        spec = self.fields.get(name)
        if spec is None:
            return ()
        if spec.reveal_roles is not None:
            return spec.reveal_roles
        if spec.kind in SPECIFIC_KINDS:
            return self.specific_reveal_roles
        return self.reveal_roles

    def excluded_from_public(self, data: Mapping[str, Any]) -> bool:
        """Return whether a request with *data* stays out of public feeds."""
        return any(data.get(name) in values for name, values in self.exclude_from_public.items())


def _roles(
    value: Any, path: str, declared: Mapping[str, str], add: Callable[[str, str], None]
) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        add(path, "must be a role name or a list of role names")
        return ()
    for role in value:
        if declared and role not in declared:
            add(path, f"role {role!r} is not declared under roles")
    return tuple(value)


def parse_privacy(
    raw: Any, *, roles: Mapping[str, str], add: Callable[[str, str], None]
) -> PrivacyPolicy:
    """Validate the ``privacy`` section of an SOP document.

    Args:
        raw: the section as parsed (``None`` when absent).
        roles: the SOP's declared roles (role id -> description).
        add: reports one problem as ``(key path, message)``.

    Returns:
        The policy (empty when the section is absent or invalid).
    """
    if raw is None:
        return PrivacyPolicy()
    if not isinstance(raw, Mapping):
        add("privacy", "must be a mapping with 'fields', 'reveal_roles' and 'retention'")
        return PrivacyPolicy()
    for key in raw:
        if key not in _SECTION_KEYS:
            add(f"privacy.{key}", f"unknown key {key!r}; use {', '.join(_SECTION_KEYS)}")
    reveal = _roles(raw.get("reveal_roles", []), "privacy.reveal_roles", roles, add)
    specific = _roles(
        raw.get("specific_reveal_roles", []), "privacy.specific_reveal_roles", roles, add
    )
    excluded = _excluded(raw.get("exclude_from_public", {}), add)
    retention = raw.get("retention")
    if retention is not None and not (isinstance(retention, str) and retention.strip()):
        add("privacy.retention", "must be the name of a retention class")
        retention = None
    fields: dict[str, PersonalField] = {}
    fields_raw = raw.get("fields", {})
    if not isinstance(fields_raw, Mapping):
        add("privacy.fields", "must map field names to {kind: ...}")
        fields_raw = {}
    for name, given in fields_raw.items():
        field = _personal_field(name, given, roles=roles, add=add)
        if field is not None:
            fields[name] = field
    return PrivacyPolicy(fields, reveal, retention, specific, excluded)


def _excluded(value: Any, add: Callable[[str, str], None]) -> dict[str, tuple[str, ...]]:
    """Read ``exclude_from_public``: field name -> the values that keep a request out."""
    path = "privacy.exclude_from_public"
    if not isinstance(value, Mapping):
        add(path, "must map a field name to the values to keep out, e.g. {kategori: [kdrt]}")
        return {}
    found: dict[str, tuple[str, ...]] = {}
    for name, values in value.items():
        listed = [values] if isinstance(values, str) else values
        if not (isinstance(name, str) and _NAME.match(name)):
            add(f"{path}.{name}", "field names are lower-case names: letters, digits, underscores")
        elif not isinstance(listed, list) or not all(isinstance(v, str) for v in listed):
            add(f"{path}.{name}", "must be a value or a list of values")
        else:
            found[name] = tuple(listed)
    return found


def _personal_field(
    name: object, given: Any, *, roles: Mapping[str, str], add: Callable[[str, str], None]
) -> PersonalField | None:
    """Return one entry of ``privacy.fields`` read, or ``None`` when it has a problem."""
    path = f"privacy.fields.{name}"
    if not isinstance(name, str) or not _NAME.match(name):
        add(path, "field names are lower-case names: letters, digits, underscores")
        return None
    spec = {"kind": given} if isinstance(given, str) else given
    if not isinstance(spec, Mapping):
        add(path, f"must be a kind ({', '.join(PERSONAL_KINDS)}) or {{kind: ...}}")
        return None
    for key in spec:
        if key not in _FIELD_KEYS:
            add(f"{path}.{key}", f"unknown key {key!r}; use {', '.join(_FIELD_KEYS)}")
    kind = spec.get("kind")
    if kind not in PERSONAL_KINDS:
        add(f"{path}.kind", f"must be one of {', '.join(PERSONAL_KINDS)}")
        return None
    override = None
    if "reveal_roles" in spec:
        override = _roles(spec["reveal_roles"], f"{path}.reveal_roles", roles, add)
    return PersonalField(name, kind, override)
