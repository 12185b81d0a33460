"""IKM rule sets read from a file: a unit's own unsur, weights and bands.

PermenPANRB 14/2017 lets a unit add unsur, replace them or weight them, as long as the
weights sum to 1.  A rules file (YAML, JSON or TOML) states such a set::

    name: dinas-lh-2026
    title: SKM Dinas Lingkungan Hidup 2026
    base: "2017"                  # optional: the bands (and title) to start from
    unsur:
      - {key: persyaratan, name: Persyaratan, weight: "0.2"}
      - {key: kebersihan, name: Kebersihan ruang tunggu, weight: "1/10"}
      # (the unit's other unsur)
    bands:                        # optional: default the bands of `base` (2017)
      - {mutu: A, kinerja: Sangat Baik, lower: "88.31", upper: "100.00"}
      # (bands B, C and D)

Weights are exact: decimal strings (``"0.2"``) or fractions (``"1/9"``), all given or
none (then equal, ``1/n``), summing to exactly 1.  Band bounds are 2-decimal scores on
the 25-100 scale; the bands must be adjacent at 0.01.  Every problem is reported at once
as ``FILE:LINE: key.path: message`` through the shared configuration reader.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from pelayanan._config import (
    Problems,
    read_config_file,
    read_decimal,
    read_list,
    read_mapping,
    read_name,
    read_text,
)
from pelayanan.exceptions import IKMRulesError, ReportError
from pelayanan.reports.ikm import (
    CONVERSION,
    RULE_SET_NAMES,
    RULES_2017,
    Band,
    RuleSet,
    Unsur,
    rule_set,
)

__all__ = ["load_rules", "rules_from_mapping"]

_KEYS = ("name", "title", "source", "base", "unsur", "bands")
_UNSUR_KEYS = ("key", "name", "weight")
_BAND_KEYS = ("mutu", "kinerja", "lower", "upper")
#: Bounds on what a rules file may hold, so a hostile file cannot make a huge report.
_MAX_UNSUR = 50
_MAX_TEXT = 200
_CENT = Decimal("0.01")
#: The top of the converted (25-100) scale.
_TOP = 100


def _read_weight(value: object, path: str, problems: Problems) -> Fraction | None:
    """Return an exact weight written ``"0.25"``, ``"1/9"`` or an integer."""
    if isinstance(value, str) and "/" in value:
        numerator, _, denominator = value.partition("/")
        numerator, denominator = numerator.strip(), denominator.strip()
        if numerator.isdigit() and denominator.isdigit() and int(denominator) > 0:
            return Fraction(int(numerator), int(denominator))
        problems.add(path, f'{value!r} is not a fraction; write it like "1/9" or "0.25"')
        return None
    number = read_decimal(value, path, problems)
    if number is None:
        return None
    if not number.is_finite() or number < 0:
        problems.add(path, f"a weight is a decimal from 0 to 1, not {value!r}")
        return None
    return Fraction(number)


def _read_text(value: object, path: str, problems: Problems) -> str | None:
    text = read_text(value, path, problems, required=True)
    if text is not None and (len(text) > _MAX_TEXT or not text.isprintable()):
        problems.add(path, f"write printable text of at most {_MAX_TEXT} characters")
        return None
    return text


def _read_unsur(items: list[Any], problems: Problems) -> tuple[list[Unsur], list[Fraction | None]]:
    unsur: list[Unsur] = []
    weights: list[Fraction | None] = []
    seen: set[str] = set()
    for number, raw in enumerate(items):
        where = f"unsur[{number}]"
        spec = read_mapping(raw, where, problems, known=_UNSUR_KEYS)
        if spec is None:
            continue
        key = read_name(spec.get("key"), f"{where}.key", problems, what="unsur key")
        name = _read_text(spec.get("name"), f"{where}.name", problems)
        if key is not None and key in seen:
            problems.add(f"{where}.key", f"unsur {key!r} appears twice; give each its own key")
        if "weight" in spec:
            weights.append(_read_weight(spec["weight"], f"{where}.weight", problems))
        else:
            weights.append(None)
        if key is not None and name is not None:
            seen.add(key)
            unsur.append(Unsur(key, name))
    return unsur, weights


def _exact_weights(
    weights: list[Fraction | None], count: int, problems: Problems
) -> tuple[Fraction, ...] | None:
    given = [w for w in weights if w is not None]
    if not given and all(w is None for w in weights):
        return None
    if len(given) != count:
        problems.add("unsur", "give a weight to every unsur, or to none (equal weights 1/n)")
        return None
    total = sum(given, Fraction(0))
    if total != 1:
        problems.add("unsur", f"the weights must sum to exactly 1; they sum to {total}")
        return None
    return tuple(given)


def _read_bound(value: object, path: str, problems: Problems) -> Decimal | None:
    bound = read_decimal(value, path, problems)
    if bound is None:
        return None
    if not bound.is_finite() or bound != bound.quantize(_CENT) or not 0 <= bound <= _TOP:
        problems.add(path, f"a bound is a score 0-100 with at most 2 decimals, not {value!r}")
        return None
    return bound.quantize(_CENT)


def _read_bands(items: list[Any], problems: Problems) -> list[Band]:
    bands: list[tuple[int, Band]] = []
    for number, raw in enumerate(items):
        where = f"bands[{number}]"
        spec = read_mapping(raw, where, problems, known=_BAND_KEYS)
        if spec is None:
            continue
        mutu = _read_text(spec.get("mutu"), f"{where}.mutu", problems)
        kinerja = _read_text(spec.get("kinerja"), f"{where}.kinerja", problems)
        lower = _read_bound(spec.get("lower"), f"{where}.lower", problems)
        upper = _read_bound(spec.get("upper"), f"{where}.upper", problems)
        if lower is not None and upper is not None and lower > upper:
            problems.add(where, f"lower {lower} is above upper {upper}")
        elif mutu is not None and kinerja is not None and lower is not None and upper is not None:
            band = Band(mutu, kinerja, lower, upper, lower / CONVERSION, upper / CONVERSION)
            bands.append((number, band))
    ordered = sorted(bands, key=lambda item: item[1].lower)
    for (_, low), (number, high) in itertools.pairwise(ordered):
        if low.upper + _CENT != high.lower:
            problems.add(
                f"bands[{number}].lower",
                f"band {high.mutu} starts at {high.lower} but band {low.mutu} ends at "
                f"{low.upper}; make the bands adjacent at 0.01 ({low.upper + _CENT})",
            )
    return [band for _, band in bands]


def rules_from_mapping(
    mapping: Mapping[str, Any],
    *,
    source: str | None = None,
    lines: Mapping[str, int] | None = None,
) -> RuleSet:
    """Build an IKM rule set from a rules document (see the module docstring).

    Args:
        mapping: the parsed document.
        source: the file it came from, named in every problem.
        lines: key path -> line in that file, for problems.

    Returns:
        The rule set, with its exact weights (``None`` when the file gives none).

    Raises:
        IKMRulesError: every problem found (unknown keys, a bad key, name, weight or
            bound, weights not summing to 1, bands not adjacent), each with its key path.
    """
    problems = Problems(source=source, lines=lines)
    spec = read_mapping(mapping, "", problems) or {}
    problems.unknown(spec, _KEYS)
    name = _read_text(spec.get("name"), "name", problems)
    if name in RULE_SET_NAMES:
        problems.add(
            "name",
            f"{name!r} names the regulation's own rule set; give yours its own name, "
            "e.g. dinas-lh-2026 (survey entries in the log are matched by this name)",
        )
    base = RULES_2017
    if "base" in spec:
        try:
            base = rule_set(str(spec["base"]))
        except ReportError as exc:
            problems.add("base", str(exc))
    title = _read_text(spec.get("title", f"{base.title} (custom)"), "title", problems)
    source_text = _read_text(spec.get("source", title or "-"), "source", problems)
    items = read_list(spec.get("unsur"), "unsur", problems) or []
    if len(items) > _MAX_UNSUR:
        problems.add("unsur", f"{len(items)} unsur; a survey has at most {_MAX_UNSUR}")
        items = []
    elif "unsur" in spec and not items:
        problems.add("unsur", "list at least one unsur")
    unsur, raw_weights = _read_unsur(list(items), problems)
    weights = _exact_weights(raw_weights, len(items), problems)
    bands: list[Band] = list(base.bands)
    if "bands" in spec:
        raw_bands = read_list(spec["bands"], "bands", problems) or []
        if not raw_bands and isinstance(spec["bands"], list):
            problems.add("bands", "list at least one band, or leave bands out")
        bands = _read_bands(list(raw_bands[:_MAX_UNSUR]), problems)
    problems.check(IKMRulesError)
    return RuleSet(name or "", title or "", source_text or "", unsur, bands, weights)


def load_rules(path: str | Path) -> RuleSet:
    """Read an IKM rules file (YAML, JSON or TOML by its suffix).

    Args:
        path: the file.

    Returns:
        The rule set it states.

    Raises:
        IKMRulesError: the file cannot be read or parsed, or states an invalid rule set;
            every problem is ``FILE:LINE: key.path: message``.
    """
    document, lines = read_config_file(path, error=IKMRulesError)
    return rules_from_mapping(document, source=str(path), lines=lines)
