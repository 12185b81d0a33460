"""One person, one spelling: ids normalised where they enter and compared by `id_key`.

Also the converters the access values share for their role, name and unit sets.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from pelayanan.exceptions import InvalidIdError

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


def actor_id(value: object) -> str:
    return normalize_id(value, what="actor id")


def _names_of_kind(value: Iterable[str], what: str) -> frozenset[str]:
    if isinstance(value, str | bytes):
        msg = (
            f"{what} must be a collection of names, not one string (which would be read as "
            f"its letters): write {{{value!r}}} or [{value!r}]"
        )
        raise TypeError(msg)
    return frozenset(value)


def role_names(value: Iterable[str]) -> frozenset[str]:
    return _names_of_kind(value, "roles")


def names(value: Iterable[str]) -> frozenset[str]:
    return _names_of_kind(value, "names")


def unit_ids(value: Iterable[str]) -> frozenset[str]:
    return frozenset(normalize_id(u, what="unit") for u in _names_of_kind(value, "units"))


def unit_id(value: str | None) -> str | None:
    return None if value is None else normalize_id(value, what="unit")
