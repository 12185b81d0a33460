"""The service-quality index: a documented, configurable combination of figures.

A unit chooses components and weights (a `QualityConfig`); every component is a ratio
between 0 and 1 computed exactly from the verified log, and the index is

    index = 100 x sum(weight_i x value_i)          (weights sum to exactly 1)

rounded half up to 2 decimals.  The report shows every component's numerator,
denominator, weight and the sequence numbers of the entries it came from, so anyone can
recompute it.  When a component has no data (no concluded clocks, no survey response)
the index is not computed and the report says which component is missing.

Components:

``sla_compliance``
    met / (met + breached) over the SLA clocks of the replayed requests; entries: the
    submissions of the requests those clocks belong to.
``ikm``
    the IKM converted score / 100 (PermenPANRB 14/2017 unless configured); entries:
    the ``survey`` entries.
``closure_rate``
    closed / received; entries: the submissions and the closing actions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from pelayanan._config import Problems, read_decimal, read_mapping, read_text, suggest
from pelayanan.exceptions import QualityConfigError
from pelayanan.reports.flow import RequestFlow
from pelayanan.reports.ikm import IKMResult, round_half_up
from pelayanan.reports.replay import ReportBasis
from pelayanan.sla import ClockVerdict

__all__ = [
    "COMPONENTS",
    "DEFAULT_QUALITY",
    "ComponentValue",
    "QualityConfig",
    "QualityIndex",
    "build_quality_index",
]

#: The components a unit can combine.
COMPONENTS = ("sla_compliance", "ikm", "closure_rate")


def _weights(value: Mapping[str, Decimal]) -> tuple[tuple[str, Decimal], ...]:
    return tuple(value.items())


def _weight_problems(value: tuple[tuple[str, Decimal], ...], problems: Problems) -> None:
    if not value:
        problems.add("weights", "a quality index needs at least one component")
    for name, weight in value:
        where = f"weights.{name}"
        if name not in COMPONENTS:
            message = f"unknown quality component {name!r}{suggest(name, COMPONENTS)}"
            problems.add(where, f"{message} (choose from {', '.join(COMPONENTS)})")
        if not weight.is_finite() or weight <= 0:
            problems.add(where, f"the weight of {name!r} must be a positive decimal, not {weight}")
    total = sum((w for _, w in value if w.is_finite()), Decimal(0))
    if value and total != 1:
        problems.add("weights", f"quality weights must sum to exactly 1; they sum to {total}")


def _check_weights(
    _instance: object, _attribute: object, value: tuple[tuple[str, Decimal], ...]
) -> None:
    problems = Problems()
    _weight_problems(value, problems)
    problems.check(QualityConfigError)


@attrs.frozen
class QualityConfig:
    """The components and weights a unit chose, under a version name.

    Attributes:
        version: the name of this configuration (stated in the report's rules).
        weights: ``(component, weight)`` pairs; weights are decimals summing to 1.
    """

    version: str
    weights: tuple[tuple[str, Decimal], ...] = attrs.field(
        converter=_weights, validator=_check_weights
    )

    @classmethod
    def from_mapping(
        cls,
        mapping: Mapping[str, Any],
        *,
        source: str | None = None,
        lines: Mapping[str, int] | None = None,
    ) -> QualityConfig:
        """Build a configuration from ``{"version": ..., "weights": {name: "0.5"}}``.

        Weights are written as decimal strings (or integers) so they stay exact.

        Args:
            mapping: the configuration.
            source: the file it came from, named in every problem.
            lines: key path -> line in that file, for problems.

        Returns:
            The configuration.

        Raises:
            QualityConfigError: a missing key, an unknown component, a weight that is not
                a positive decimal, or weights not summing to 1 (every problem at once;
                it is a `ReportError` and a `ConfigurationError`).
        """
        problems = Problems(source=source, lines=lines)
        spec = read_mapping(mapping, "", problems) or {}
        problems.unknown(spec, ("version", "weights"))
        version = read_text(spec.get("version"), "version", problems, required=True)
        raw = read_mapping(spec.get("weights"), "weights", problems) or {}
        weights: dict[str, Decimal] = {}
        for name, text in raw.items():
            weight = read_decimal(text, f"weights.{name}", problems)
            if weight is not None:
                weights[str(name)] = weight
        if len(weights) == len(raw):
            _weight_problems(tuple(weights.items()), problems)
        problems.check(QualityConfigError)
        return cls(version or "", weights)

    def to_json_dict(self) -> dict[str, object]:
        """Return the configuration as JSON-ready data."""
        return {"version": self.version, "weights": {n: str(w) for n, w in self.weights}}


#: The default: SLA compliance and IKM, equally weighted.
DEFAULT_QUALITY = QualityConfig(
    "default-1",
    {"sla_compliance": Decimal("0.5"), "ikm": Decimal("0.5")},
)


@attrs.frozen
class ComponentValue:
    """One component of the index, with where it came from.

    Attributes:
        name: the component.
        weight: its weight.
        numerator: the ratio's numerator (``None`` when no data).
        denominator: the ratio's denominator.
        value: the exact ratio (``None`` when no data).
        entries: the sequence numbers of the entries it came from.
        note: how the ratio was formed.
    """

    name: str
    weight: Decimal
    numerator: Fraction | None
    denominator: int
    value: Fraction | None
    entries: tuple[int, ...]
    note: str

    def to_json_dict(self) -> dict[str, object]:
        """Return the component as JSON-ready data (exact values as fraction strings)."""
        return {
            "name": self.name,
            "weight": str(self.weight),
            "numerator": None if self.numerator is None else str(self.numerator),
            "denominator": self.denominator,
            "value": None if self.value is None else str(self.value),
            "value_percent": None
            if self.value is None
            else str(round_half_up(self.value * 100, 2)),
            "entries": list(self.entries),
            "note": self.note,
        }


@attrs.frozen
class QualityIndex:
    """A computed service-quality index.

    Attributes:
        basis: what it was computed from.
        config: the components and weights.
        components: each component's figures.
        index: the index (0-100, 2 decimals), or ``None`` when a component has no data.
        exact: the exact index, or ``None``.
    """

    basis: ReportBasis
    config: QualityConfig
    components: tuple[ComponentValue, ...]
    index: str | None
    exact: Fraction | None

    @property
    def missing(self) -> tuple[str, ...]:
        """Return the components without data."""
        return tuple(c.name for c in self.components if c.value is None)

    def to_json_dict(self) -> dict[str, object]:
        """Return the index as JSON-ready data."""
        return {
            "report": "quality",
            "basis": self.basis.to_json_dict(),
            "config": self.config.to_json_dict(),
            "formula": "index = 100 x sum(weight x value), rounded half up to 2 decimals",
            "components": [c.to_json_dict() for c in self.components],
            "index": self.index,
            "index_exact": None if self.exact is None else str(self.exact),
            "missing": list(self.missing),
        }

    def render_json(self) -> str:
        """Render as JSON text (sorted keys, trailing newline)."""
        return json.dumps(self.to_json_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"

    def render_text(self) -> str:
        """Render as plain text (trailing newline included)."""
        lines = ["Service-quality index", *self.basis.render_lines()]
        lines.append(f"configuration {self.config.version}: index = 100 x sum(weight x value)")
        for c in self.components:
            shown = "no data" if c.value is None else f"{round_half_up(c.value * 100, 2)}%"
            entries = ", ".join(str(s) for s in c.entries[:8])
            more = f" and {len(c.entries) - 8} more" if len(c.entries) > 8 else ""
            lines.append(
                f"  {c.name:<15} weight {c.weight}  value {shown}  ({c.note}; "
                f"entries {entries or '-'}{more})"
            )
        if self.index is None:
            lines.append("index: not computed; no data for " + ", ".join(self.missing))
        else:
            lines.append(f"index: {self.index}")
        return "\n".join(lines) + "\n"


def build_quality_index(
    config: QualityConfig,
    basis: ReportBasis,
    *,
    flow: RequestFlow,
    verdicts: Iterable[ClockVerdict] = (),
    ikm: IKMResult | None = None,
    survey_seqs: Iterable[int] = (),
) -> QualityIndex:
    """Compute the index from a replay, its clock verdicts and its survey responses.

    Args:
        config: the components and weights.
        basis: the basis the report states.
        flow: the replay of the verified log.
        verdicts: the clock verdicts recomputed from the same log.
        ikm: the IKM of the survey responses in the log, if there were any.
        survey_seqs: the sequence numbers of those responses.

    Returns:
        The index.
    """
    components: list[ComponentValue] = []
    for name, weight in config.weights:
        if name == "sla_compliance":
            met = breached = 0
            seqs: set[int] = set()
            for verdict in verdicts:
                track = flow.tracks.get(verdict.request)
                if track is None or verdict.status not in ("met", "breached"):
                    continue
                met += verdict.status == "met"
                breached += verdict.status == "breached"
                seqs.add(track.received_seq)
            whole = met + breached
            components.append(
                ComponentValue(
                    name,
                    weight,
                    Fraction(met) if whole else None,
                    whole,
                    Fraction(met, whole) if whole else None,
                    tuple(sorted(seqs)),
                    f"{met} met of {whole} concluded clocks",
                )
            )
        elif name == "ikm":
            seq_list = tuple(sorted(survey_seqs))
            value = None if ikm is None else ikm.converted / 100
            components.append(
                ComponentValue(
                    name,
                    weight,
                    None if ikm is None else ikm.converted,
                    100,
                    value,
                    seq_list,
                    "no survey responses"
                    if ikm is None
                    else f"IKM {ikm.ikm} of 100 ({ikm.respondents} respondents, "
                    f"rules {ikm.rules.name})",
                )
            )
        else:
            received = len(flow.tracks)
            closed = [t for t in flow.tracks.values() if t.closed_seq is not None]
            seqs = {t.received_seq for t in flow.tracks.values()}
            seqs.update(t.closed_seq for t in closed if t.closed_seq is not None)
            components.append(
                ComponentValue(
                    name,
                    weight,
                    Fraction(len(closed)) if received else None,
                    received,
                    Fraction(len(closed), received) if received else None,
                    tuple(sorted(seqs)),
                    f"{len(closed)} closed of {received} received",
                )
            )
    if any(c.value is None for c in components):
        return QualityIndex(basis, config, tuple(components), None, None)
    exact = 100 * sum(
        (Fraction(c.weight) * c.value for c in components if c.value is not None), Fraction(0)
    )
    return QualityIndex(basis, config, tuple(components), str(round_half_up(exact, 2)), exact)
