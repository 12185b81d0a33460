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

The section is optional; an SOP without it has no personal fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs

__all__ = ["PERSONAL_KINDS", "PersonalField", "PrivacyPolicy", "parse_privacy"]

#: The kinds of personal value an SOP can mark.  ``nik`` values also index the data
#: subject (a keyed HMAC under the vault's master key), so a citizen's second request
#: joins their first.
PERSONAL_KINDS = ("name", "nik", "phone", "address", "text")

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SECTION_KEYS = ("fields", "reveal_roles", "retention")
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
        reveal_roles: roles that may reveal any personal field (unless overridden).
        retention: the retention class of the SOP's records, or ``None`` for none.
    """

    fields: Mapping[str, PersonalField] = attrs.field(factory=dict)
    reveal_roles: tuple[str, ...] = ()
    retention: str | None = None

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
        return spec.reveal_roles if spec.reveal_roles is not None else self.reveal_roles


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
    return PrivacyPolicy(fields, reveal, retention)


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
