"""The public satisfaction index (IKM) of a satisfaction survey (SKM).

The method follows PermenPANRB 14/2017 (Pedoman Penyusunan Survei Kepuasan Masyarakat,
Lampiran): every respondent answers every unsur with an integer 1-4; per unsur the
*nilai rata-rata* is ``NRR = sum of answers / respondents``; the index is the weighted sum
``IKM = sum(weight x NRR)`` with equal weights ``1/n`` for ``n`` unsur (units may add unsur
or weight them, as long as the weights sum to 1); the converted score is ``IKM x 25`` on
the 25-100 scale.

Arithmetic is exact (`fractions.Fraction`) from the answers to the category.  Published
reports often multiply by a rounded weight (0.111 for 9 unsur) instead of 1/9, which
shifts the score and sometimes the category; that convention is available only on
request (``weight=Decimal("0.111")``).

Classification rule.  The official band table leaves gaps between bands (88.30 | 88.31,
76.60 | 76.61, 64.99 | 65.00 on the 25-100 scale).  pelayanan rounds the exact converted
score half-up to 2 decimals -- the precision of the table and of the published ``ikm``
figure -- and classifies that rounded value.  Every 2-decimal value between 25.00 and
100.00 lies in exactly one band, so the gaps disappear: 88.305 rounds to 88.31 (A),
88.3049... to 88.30 (B), 76.605 to 76.61 (B), 64.995 to 65.00 (C).  The published ``ikm``
string and the category therefore always agree.  With a rounded weight the score can
leave 25-100 slightly (9 x 0.111 = 0.999, so all-1 answers give 24.98); such a score
takes the nearest band.

Rule sets are versioned values: `RULES_2017` (PermenPANRB 14/2017, the law in force) and
`RULES_2004` (KEP/25/M.PAN/2/2004, 14 unsur, still found in archives; its bands are
confirmed only by secondary sources quoting its Lampiran).  `rule_set` looks them up by
name.  See ``docs/ikm.md`` for the keys, the rounding rule and the sources.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TextIO

import attrs

from pelayanan.exceptions import ReportError
from pelayanan.sop.values import describe_value

__all__ = [
    "RULES_2004",
    "RULES_2017",
    "RULE_SET_NAMES",
    "Band",
    "IKMResult",
    "RuleSet",
    "Unsur",
    "UnsurScore",
    "compute_ikm",
    "read_survey_csv",
    "round_half_up",
    "rule_set",
]

#: The lowest and highest answer a respondent can give (both rule sets).
MIN_ANSWER = 1
MAX_ANSWER = 4
#: Factor from the 1-4 index to the 25-100 converted score.
CONVERSION = 25

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
#: A processing-table column heading: U1, U2, ... (case-insensitive after lowering).
_U_COLUMN = re.compile(r"u([1-9][0-9]?)")


def round_half_up(value: Fraction, places: int) -> Decimal:
    """Round an exact value half away from zero to a fixed number of decimals.

    Args:
        value: the exact value.
        places: the number of decimals to keep (0 or more).

    Returns:
        A `Decimal` with exactly ``places`` decimals, e.g. ``Decimal("65.00")``.
    """
    scaled = abs(value) * 10**places
    digits = math.floor(scaled + Fraction(1, 2))
    rounded = Decimal(digits if value >= 0 else -digits).scaleb(-places)
    return rounded.quantize(Decimal(1).scaleb(-places))


def _as_fraction(value: Fraction | Decimal | int) -> Fraction:
    return value if isinstance(value, Fraction) else Fraction(value)


def _check_key(_instance: object, _attribute: object, value: str) -> None:
    if not _KEY_RE.fullmatch(value):
        raise ReportError(
            f"unsur key {value!r} is not snake_case: use lowercase letters, digits and _"
        )


@attrs.frozen
class Unsur:
    """One surveyed element (unsur) of a satisfaction survey.

    Attributes:
        key: the stable snake_case key that names the unsur in responses and CSV headers.
        name: the Indonesian name as the regulation writes it.
    """

    key: str = attrs.field(validator=_check_key)
    name: str


@attrs.frozen
class Band:
    """One category of the index: mutu pelayanan and kinerja unit pelayanan.

    Bounds are the published ones, inclusive.  Classification uses the 25-100 bounds
    (``lower`` / ``upper``); the 1-4 bounds are kept for display and for readers who
    compare with the regulation's table.

    Attributes:
        mutu: the quality grade, ``"A"`` to ``"D"``.
        kinerja: the performance label, e.g. ``"Sangat Baik"``.
        lower: the lowest converted score (25-100 scale) of the band.
        upper: the highest converted score of the band.
        index_lower: the lowest index on the 1-4 scale, as published.
        index_upper: the highest index on the 1-4 scale, as published.
    """

    mutu: str
    kinerja: str
    lower: Decimal
    upper: Decimal
    index_lower: Decimal
    index_upper: Decimal

    def contains(self, score: Decimal) -> bool:
        """Say whether a 2-decimal converted score lies in this band (bounds inclusive)."""
        return self.lower <= score <= self.upper


def _unsur_tuple(value: Iterable[Unsur]) -> tuple[Unsur, ...]:
    return tuple(value)


def _band_tuple(value: Iterable[Band]) -> tuple[Band, ...]:
    # Highest band first, so classification reads top-down like the published tables.
    return tuple(sorted(value, key=lambda band: band.lower, reverse=True))


def _check_unsur(_instance: object, _attribute: object, value: tuple[Unsur, ...]) -> None:
    if not value:
        raise ReportError("a rule set needs at least one unsur")
    seen: set[str] = set()
    for unsur in value:
        if unsur.key in seen:
            raise ReportError(f"unsur key {unsur.key!r} appears twice; give each unsur its own key")
        seen.add(unsur.key)


def _check_bands(_instance: object, _attribute: object, value: tuple[Band, ...]) -> None:
    if not value:
        raise ReportError("a rule set needs at least one band")
    step = Decimal("0.01")
    for upper_band, lower_band in itertools.pairwise(value):
        # Adjacent at 2-decimal precision: no value rounded to 2 decimals falls between.
        if lower_band.upper + step != upper_band.lower:
            raise ReportError(
                f"bands {lower_band.mutu} and {upper_band.mutu} are not adjacent at 0.01: "
                f"{lower_band.upper} is followed by {upper_band.lower}"
            )


def _check_weights(
    instance: RuleSet, _attribute: object, value: tuple[Fraction, ...] | None
) -> None:
    if value is None:
        return
    if len(value) != len(instance.unsur):
        raise ReportError(
            f"rule set {instance.name}: {len(value)} weights for {len(instance.unsur)} unsur; "
            "give one weight per unsur"
        )
    if any(w < 0 for w in value) or sum(value, Fraction(0)) != 1:
        raise ReportError(
            f"rule set {instance.name}: weights must not be negative and must sum to exactly 1"
        )


@attrs.frozen
class RuleSet:
    """A versioned set of IKM rules: the unsur and the category bands.

    Build a custom set (extra unsur) with `RuleSet.extend`; the bands stay those of
    the regulation.

    Attributes:
        name: the registry name, e.g. ``"2017"``.
        title: the regulation, e.g. ``"PermenPANRB 14/2017"``.
        source: where the rules come from, with the confidence of the source.
        unsur: the unsur in the regulation's order (responses are matched by key).
        bands: the categories, highest first.
        weights: the exact weight of each unsur, in the order of ``unsur`` (summing to
            1), or ``None`` for equal weights ``1/n``.
    """

    name: str
    title: str
    source: str
    unsur: tuple[Unsur, ...] = attrs.field(converter=_unsur_tuple, validator=_check_unsur)
    bands: tuple[Band, ...] = attrs.field(converter=_band_tuple, validator=_check_bands)
    weights: tuple[Fraction, ...] | None = attrs.field(default=None, validator=_check_weights)

    @property
    def keys(self) -> tuple[str, ...]:
        """Return the unsur keys in the rule set's order."""
        return tuple(u.key for u in self.unsur)

    def extend(self, *extra: Unsur, name: str | None = None) -> RuleSet:
        """Return a rule set with extra unsur added after the regulation's ones.

        PermenPANRB 14/2017 lets a unit survey additional unsur; the bands are unchanged
        and the weights become equal, ``1/(n + len(extra))``.

        Args:
            *extra: the added unsur.
            name: the new set's name; defaults to ``"<name>+<keys>"``.

        Returns:
            The extended rule set.

        Raises:
            ReportError: an extra key repeats an existing one.
        """
        new_name = name if name is not None else "+".join([self.name, *(u.key for u in extra)])
        return attrs.evolve(self, name=new_name, unsur=self.unsur + extra, weights=None)

    def classify(self, converted: Fraction | Decimal | int) -> Band:
        """Return the band of a converted (25-100) score.

        The score is rounded half-up to 2 decimals first, then matched against the
        inclusive bounds; a score beyond the outer bands (possible only with a rounded
        weight) takes the nearest band.

        Args:
            converted: the converted score; pass exact values (`Fraction` or `Decimal`),
                not floats, whose binary value may sit on the other side of an edge.

        Returns:
            The band.
        """
        score = round_half_up(_as_fraction(converted), 2)
        for band in self.bands:
            if band.contains(score):
                return band
        return self.bands[0] if score > self.bands[0].upper else self.bands[-1]


def _band(mutu: str, kinerja: str, converted: tuple[str, str], index: tuple[str, str]) -> Band:
    return Band(
        mutu=mutu,
        kinerja=kinerja,
        lower=Decimal(converted[0]),
        upper=Decimal(converted[1]),
        index_lower=Decimal(index[0]),
        index_upper=Decimal(index[1]),
    )


#: PermenPANRB 14/2017, Lampiran: the 9 unsur and the table "Nilai Persepsi, Interval
#: IKM, Interval Konversi IKM, Mutu Pelayanan dan Kinerja Unit Pelayanan".
RULES_2017 = RuleSet(
    name="2017",
    title="PermenPANRB 14/2017",
    source=(
        "Peraturan Menteri PANRB Nomor 14 Tahun 2017 tentang Pedoman Penyusunan Survei "
        "Kepuasan Masyarakat Unit Penyelenggara Pelayanan Publik, Lampiran [C]"
    ),
    unsur=(
        Unsur("persyaratan", "Persyaratan"),
        Unsur("prosedur", "Sistem, Mekanisme, dan Prosedur"),
        Unsur("waktu", "Waktu Penyelesaian"),
        Unsur("biaya", "Biaya/Tarif"),
        Unsur("produk", "Produk Spesifikasi Jenis Pelayanan"),
        Unsur("kompetensi", "Kompetensi Pelaksana"),
        Unsur("perilaku", "Perilaku Pelaksana"),
        Unsur("pengaduan", "Penanganan Pengaduan, Saran dan Masukan"),
        Unsur("sarana", "Sarana dan Prasarana"),
    ),
    bands=(
        _band("A", "Sangat Baik", ("88.31", "100.00"), ("3.5324", "4.00")),
        _band("B", "Baik", ("76.61", "88.30"), ("3.0644", "3.532")),
        _band("C", "Kurang Baik", ("65.00", "76.60"), ("2.60", "3.064")),
        _band("D", "Tidak Baik", ("25.00", "64.99"), ("1.00", "2.5996")),
    ),
)

#: KEP/25/M.PAN/2/2004 (Pedoman Umum Penyusunan IKM Unit Pelayanan Instansi Pemerintah):
#: 14 unsur; bands as quoted from its Lampiran by published survey reports.
RULES_2004 = RuleSet(
    name="2004",
    title="KEP/25/M.PAN/2/2004",
    source=(
        "Keputusan Menteri PAN Nomor KEP/25/M.PAN/2/2004 tentang Pedoman Umum Penyusunan "
        "Indeks Kepuasan Masyarakat Unit Pelayanan Instansi Pemerintah; unsur and bands "
        "confirmed only through secondary sources quoting its Lampiran [S]"
    ),
    unsur=(
        Unsur("prosedur", "Prosedur pelayanan"),
        Unsur("persyaratan", "Persyaratan pelayanan"),
        Unsur("kejelasan_petugas", "Kejelasan petugas pelayanan"),
        Unsur("kedisiplinan_petugas", "Kedisiplinan petugas pelayanan"),
        Unsur("tanggung_jawab_petugas", "Tanggung jawab petugas pelayanan"),
        Unsur("kemampuan_petugas", "Kemampuan petugas pelayanan"),
        Unsur("kecepatan", "Kecepatan pelayanan"),
        Unsur("keadilan", "Keadilan mendapatkan pelayanan"),
        Unsur("kesopanan", "Kesopanan dan keramahan petugas"),
        Unsur("kewajaran_biaya", "Kewajaran biaya pelayanan"),
        Unsur("kepastian_biaya", "Kepastian biaya pelayanan"),
        Unsur("kepastian_jadwal", "Kepastian jadwal pelayanan"),
        Unsur("kenyamanan", "Kenyamanan lingkungan"),
        Unsur("keamanan", "Keamanan pelayanan"),
    ),
    bands=(
        _band("A", "Sangat Baik", ("81.26", "100.00"), ("3.26", "4.00")),
        _band("B", "Baik", ("62.51", "81.25"), ("2.51", "3.25")),
        _band("C", "Kurang Baik", ("43.76", "62.50"), ("1.76", "2.50")),
        _band("D", "Tidak Baik", ("25.00", "43.75"), ("1.00", "1.75")),
    ),
)

_RULE_SETS: Mapping[str, RuleSet] = {"2017": RULES_2017, "2004": RULES_2004}
#: The names of the regulations' rule sets, as `rule_set` knows them.
RULE_SET_NAMES = tuple(_RULE_SETS)


def rule_set(name: str) -> RuleSet:
    """Return the rule set registered under a name.

    Args:
        name: ``"2017"`` (PermenPANRB 14/2017) or ``"2004"`` (KEP/25/M.PAN/2/2004).

    Returns:
        The rule set.

    Raises:
        ReportError: no rule set has that name.
    """
    try:
        return _RULE_SETS[name]
    except KeyError:
        known = " or ".join(_RULE_SETS)
        raise ReportError(f"unknown IKM rule set {name!r}; choose {known}") from None


@attrs.frozen
class UnsurScore:
    """The figures of one unsur in a computed index.

    Attributes:
        key: the unsur key.
        name: the unsur's Indonesian name.
        weight: the weight applied to its NRR (exact, or the rounded weight as a fraction).
        total: the sum of all answers for the unsur.
        nrr: the exact nilai rata-rata (``total / respondents``).
    """

    key: str
    name: str
    weight: Fraction
    total: int
    nrr: Fraction

    @property
    def nrr_text(self) -> str:
        """Return the NRR rounded half-up to 3 decimals, e.g. ``"3.533"``."""
        return str(round_half_up(self.nrr, 3))


@attrs.frozen
class IKMResult:
    """A computed satisfaction index.

    Attributes:
        rules: the rule set applied.
        respondents: how many respondents answered.
        unsur: per-unsur figures, in the rule set's order.
        index: the exact index on the 1-4 scale (``sum(weight x NRR)``).
        converted: the exact converted score (``index x 25``).
        ikm: the converted score rounded half-up to 2 decimals, e.g. ``"88.33"``.
        mutu: the quality grade ``"A"`` to ``"D"`` of ``ikm``.
        kinerja: the performance label of that grade, e.g. ``"Sangat Baik"``.
        rounded_weight: the rounded weight applied to every unsur, or ``None`` when
            the weights are exact.
    """

    rules: RuleSet
    respondents: int
    unsur: tuple[UnsurScore, ...]
    index: Fraction
    converted: Fraction
    ikm: str
    mutu: str
    kinerja: str
    rounded_weight: Decimal | None = None

    @property
    def nrr(self) -> dict[str, Fraction]:
        """Return the exact NRR per unsur key."""
        return {u.key: u.nrr for u in self.unsur}

    @property
    def weights(self) -> dict[str, Fraction]:
        """Return the weight per unsur key."""
        return {u.key: u.weight for u in self.unsur}

    @property
    def index_text(self) -> str:
        """Return the 1-4 index rounded half-up to 4 decimals, e.g. ``"3.5333"``."""
        return str(round_half_up(self.index, 4))

    def _weight_text(self, weight: Fraction) -> str:
        return str(self.rounded_weight) if self.rounded_weight is not None else str(weight)

    def to_json_dict(self) -> dict[str, object]:
        """Return the result as JSON-ready data: strings for every non-integer.

        Exact values are given as fractions (``"265/3"``) next to their rounded text, so
        an auditor can recompute every figure.

        Returns:
            A dict with the keys ``rules``, ``respondents``, ``weighting``, ``unsur``,
            ``index``, ``index_exact``, ``ikm``, ``ikm_exact``, ``mutu`` and ``kinerja``.
        """
        return {
            "rules": {
                "name": self.rules.name,
                "title": self.rules.title,
                "source": self.rules.source,
            },
            "respondents": self.respondents,
            "weighting": "exact" if self.rounded_weight is None else "rounded",
            "unsur": [
                {
                    "key": u.key,
                    "name": u.name,
                    "weight": self._weight_text(u.weight),
                    "total": u.total,
                    "nrr": u.nrr_text,
                    "nrr_exact": str(u.nrr),
                }
                for u in self.unsur
            ],
            "index": self.index_text,
            "index_exact": str(self.index),
            "ikm": self.ikm,
            "ikm_exact": str(self.converted),
            "mutu": self.mutu,
            "kinerja": self.kinerja,
        }

    def render_text(self) -> str:
        """Render the result as a plain-text table for a terminal.

        Returns:
            Several lines, without a trailing newline.
        """
        if self.rounded_weight is None:
            weighting = "exact weights"
        else:
            weighting = f"rounded weight {self.rounded_weight} (published convention)"
        key_width = max(len("unsur"), *(len(u.key) for u in self.unsur))
        name_width = max(len("name"), *(len(u.name) for u in self.unsur))
        lines = [
            f"IKM {self.ikm}  mutu {self.mutu} ({self.kinerja})",
            (
                f"rules {self.rules.name}: {self.rules.title}; "
                f"{self.respondents} respondents; {weighting}"
            ),
            "",
            f"{'unsur':<{key_width}}  {'name':<{name_width}}  {'NRR':>5}  weight",
        ]
        lines.extend(
            f"{u.key:<{key_width}}  {u.name:<{name_width}}  {u.nrr_text:>5}  "
            f"{self._weight_text(u.weight)}"
            for u in self.unsur
        )
        lines.extend(["", f"index (1-4) {self.index_text}   converted (25-100) {self.ikm}"])
        return "\n".join(lines)


def _exact_weights(
    rules: RuleSet,
    weight: Decimal | None,
    weights: Mapping[str, Fraction | Decimal | int] | None,
) -> dict[str, Fraction]:
    n = len(rules.unsur)
    if weight is not None and weights is not None:
        raise ReportError("give either one rounded weight or a weight per unsur, not both")
    if weight is not None:
        return dict.fromkeys(rules.keys, _check_rounded_weight(weight, n))
    if weights is None and rules.weights is not None:
        return dict(zip(rules.keys, rules.weights, strict=True))
    if weights is None:
        return dict.fromkeys(rules.keys, Fraction(1, n))
    missing = [k for k in rules.keys if k not in weights]
    unknown = sorted(k for k in weights if k not in rules.keys)
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown {', '.join(unknown)}")
        raise ReportError(
            f"weights must name every unsur of rules {rules.name} exactly once: " + "; ".join(parts)
        )
    exact: dict[str, Fraction] = {}
    for key in rules.keys:
        try:
            exact[key] = _as_fraction(weights[key])
        except (ValueError, TypeError, OverflowError):
            raise ReportError(
                f"weight of {key} is {weights[key]!r}; give a finite Fraction or Decimal"
            ) from None
    negative = [k for k, w in exact.items() if w < 0]
    if negative:
        raise ReportError(f"weights must not be negative: {', '.join(negative)}")
    total = sum(exact.values(), Fraction(0))
    if total != 1:
        raise ReportError(f"weights must sum to exactly 1, they sum to {total}")
    return exact


def _check_rounded_weight(weight: Decimal, n: int) -> Fraction:
    if not weight.is_finite() or weight <= 0:
        raise ReportError(f"weight {weight} must be a positive decimal such as 0.111")
    normal = weight.normalize()
    exponent = normal.as_tuple().exponent
    assert isinstance(exponent, int)  # finite decimals have an integer exponent
    places = max(-exponent, 0)
    exact = Fraction(normal)
    one_nth = Fraction(1, n)
    # The convention is 1/n rounded (or truncated) to the decimals written; any other
    # value is another method, not this convention.
    truncated = Fraction(math.floor(one_nth * 10**places), 10**places)
    if exact not in (Fraction(round_half_up(one_nth, places)), truncated):
        raise ReportError(
            f"weight {weight} is not 1/{n} rounded or truncated to {places} decimals "
            f"(1/{n} = {round_half_up(one_nth, 4)}...); "
            f"use e.g. {round_half_up(one_nth, 3)}, or omit it for exact weights"
        )
    return exact


def compute_ikm(
    responses: Iterable[Mapping[str, int]],
    *,
    rules: RuleSet = RULES_2017,
    weight: Decimal | None = None,
    weights: Mapping[str, Fraction | Decimal | int] | None = None,
) -> IKMResult:
    """Compute the satisfaction index of a survey.

    Args:
        responses: one mapping per respondent, unsur key -> answer (integer 1-4); every
            respondent answers every unsur of ``rules`` (matched by key, order is free).
        rules: the rule set; `RULES_2017` by default.
        weight: the published rounded-weight convention: this one weight (e.g.
            ``Decimal("0.111")``) multiplies every NRR instead of the exact ``1/n``.
            It must be ``1/n`` rounded half-up or truncated to the decimals written.
        weights: custom exact weights per unsur key; they must name every unsur and sum
            to exactly 1.  Exclusive with ``weight``.  Default: the rule set's own
            weights (`RuleSet.weights`), else equal weights ``1/n``.

    Returns:
        The index, its category and the per-unsur figures.

    Raises:
        ReportError: no respondents; a response misses an unsur, names an unknown one,
            or holds an answer that is not an integer 1-4; the weights are invalid.
    """
    w = _exact_weights(rules, weight, weights)
    keys = rules.keys
    totals = dict.fromkeys(keys, 0)
    respondents = 0
    for number, response in enumerate(responses, start=1):
        missing = [k for k in keys if k not in response]
        if missing:
            raise ReportError(
                f"response {number}: no answer for {', '.join(missing)}; every respondent "
                f"answers every unsur of rules {rules.name}"
            )
        unknown = [k for k in response if k not in totals]
        if unknown:
            # Only well-formed keys are named: a stray key may be anything a caller passed.
            named = sorted(k for k in unknown if _KEY_RE.fullmatch(str(k)))
            others = len(unknown) - len(named)
            shown = ", ".join([*named, *([f"{others} malformed key(s)"] if others else [])])
            raise ReportError(
                f"response {number}: unknown unsur {shown}; "
                f"rules {rules.name} know {', '.join(keys)}"
            )
        for key in keys:
            answer: object = response[key]
            if (
                not isinstance(answer, int)
                or isinstance(answer, bool)
                or not MIN_ANSWER <= answer <= MAX_ANSWER
            ):
                # An integer answer is shown; anything else only by its kind, since a
                # misplaced value may be anything a caller passed.
                given = str(answer) if type(answer) is int else describe_value(answer)
                raise ReportError(f"response {number}: {key} = {given}; answers are integers 1-4")
            totals[key] += answer
        respondents += 1
    if respondents == 0:
        raise ReportError("the survey has no respondents; the index needs at least one")
    scores = tuple(
        UnsurScore(
            key=u.key,
            name=u.name,
            weight=w[u.key],
            total=totals[u.key],
            nrr=Fraction(totals[u.key], respondents),
        )
        for u in rules.unsur
    )
    index = sum((s.weight * s.nrr for s in scores), Fraction(0))
    converted = index * CONVERSION
    band = rules.classify(converted)
    return IKMResult(
        rules=rules,
        respondents=respondents,
        unsur=scores,
        index=index,
        converted=converted,
        ikm=str(round_half_up(converted, 2)),
        mutu=band.mutu,
        kinerja=band.kinerja,
        rounded_weight=weight.normalize() if weight is not None else None,
    )


def _sniff_delimiter(text: str) -> str:
    # Excel in an Indonesian locale saves "CSV" with semicolons (the comma is the
    # decimal separator there); paper surveys are typed into exactly that.
    first = text.split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","


def read_survey_csv(
    source: str | os.PathLike[str] | TextIO, *, rules: RuleSet = RULES_2017
) -> list[dict[str, int]]:
    """Read paper-survey answers from CSV: a header of unsur keys, one row per respondent.

    The header names every unsur of ``rules`` once, in any order (case and surrounding
    spaces are ignored); every following row holds one respondent's answers as integers
    1-4.  Blank lines are skipped.  Commas or semicolons separate the columns (the
    separator with more occurrences in the header wins); a UTF-8 byte-order mark is
    ignored.

    Args:
        source: a path, or an open text stream.
        rules: the rule set whose unsur the header must name.

    Returns:
        One mapping unsur key -> answer per respondent, in file order; ready for
        `compute_ikm`.

    Raises:
        ReportError: the file cannot be read, or its content is invalid; the message
            names the file, the line and the column and says what to fix.
    """
    if isinstance(source, (str, os.PathLike)):
        where = os.fspath(source)
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise ReportError(f"{where}: not UTF-8 text; save the survey as CSV UTF-8") from None
        except OSError as exc:
            raise ReportError(f"{where}: cannot read the file: {exc.strerror}") from None
    else:
        where = str(getattr(source, "name", "<stream>"))
        try:
            text = source.read().removeprefix("\ufeff")
        except UnicodeDecodeError:
            raise ReportError(f"{where}: not UTF-8 text; save the survey as CSV UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    # line_num is read after each row: the (last) line of that row, for messages.
    rows = ((reader.line_num, row) for row in reader if any(cell.strip() for cell in row))
    try:
        return _read_rows(rows, where, rules)
    except csv.Error as exc:
        raise ReportError(f"{where}:{reader.line_num}: malformed CSV: {exc}") from None


def _read_rows(
    rows: Iterator[tuple[int, list[str]]], where: str, rules: RuleSet
) -> list[dict[str, int]]:
    first = next(rows, None)
    expected = ", ".join(rules.keys)
    if first is None:
        raise ReportError(
            f"{where}:1: no header row; the first row names the unsur columns: {expected}"
        )
    header_line, raw_header = first
    header = _check_header(raw_header, where, header_line, rules)
    responses: list[dict[str, int]] = []
    for line, row in rows:
        if len(row) != len(header):
            raise ReportError(
                f"{where}:{line}: the row has {len(row)} values but the header has "
                f"{len(header)} columns; write one answer per unsur column"
            )
        response: dict[str, int] = {}
        for column, (key, cell) in enumerate(zip(header, row, strict=True), start=1):
            response[key] = _parse_answer(cell, f"{where}:{line}: column {column} ({key})")
        responses.append(response)
    if not responses:
        raise ReportError(
            f"{where}: no respondents; add one row of answers per respondent under the header"
        )
    return responses


def _column_key(cell: str, rules: RuleSet) -> str:
    """Return the unsur key a header cell names: the key itself, or U1, U2, ... in order.

    The regulation's processing tables head the unsur columns U1-U9 (2017) or U1-U14
    (2004), numbered in the order the rule set lists them; an unsur key wins over the
    numbering when a custom set uses such a key itself.
    """
    key = cell.strip().lower()
    if key in rules.keys:
        return key
    match = _U_COLUMN.fullmatch(key)
    if match is not None and 1 <= int(match[1]) <= len(rules.keys):
        return rules.keys[int(match[1]) - 1]
    return key


def _shown(cell: str, key: str) -> str:
    """Return a header cell as written, with the unsur key it names when they differ."""
    text = cell.strip().lower()
    return text if text == key else f"{text} = {key}"


def _check_header(row: Sequence[str], where: str, line: int, rules: RuleSet) -> list[str]:
    header = [_column_key(cell, rules) for cell in row]
    known = set(rules.keys)
    seen: dict[str, int] = {}
    for column, key in enumerate(header, start=1):
        if key in seen:
            raise ReportError(
                f"{where}:{line}: column {column} ({_shown(row[column - 1], key)}): "
                f"duplicate column, also column {seen[key]}; keep one column per unsur"
            )
        if key not in known:
            shown = key or "<empty>"
            raise ReportError(
                f"{where}:{line}: column {column} ({shown}): unknown unsur for rules "
                f"{rules.name}; the columns are {', '.join(rules.keys)} "
                f"(or U1-U{len(rules.keys)} in that order)"
            )
        seen[key] = column
    missing = [k for k in rules.keys if k not in seen]
    if missing:
        raise ReportError(
            f"{where}:{line}: missing unsur column {', '.join(missing)}; the header names "
            f"every unsur of rules {rules.name}"
        )
    return header


def _parse_answer(cell: str, at: str) -> int:
    text = cell.strip()
    # Only plain digits: "3.0", "+3" or a full-width digit are typing slips to fix, not answers.
    if not text.isascii() or not text.isdigit():
        shown = repr(text) if text else "empty"
        raise ReportError(f"{at}: {shown} is not an integer; write the answer 1, 2, 3 or 4")
    value = int(text)
    if not MIN_ANSWER <= value <= MAX_ANSWER:
        raise ReportError(f"{at}: {value} is outside 1-4; write the answer 1, 2, 3 or 4")
    return value
