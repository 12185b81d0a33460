"""Every table a report prints, as named tables for ``--format csv``.

Each report's tables are built here from the finished report value, so the text, HTML and
CSV forms read the same rows.  A table is *wide*: one header row, then one row per item,
with machine names (state and clock ids, NIPs, ISO 8601 instants in UTC, exact figures)
so that analysts can join tables across units; the labels people read belong to the text
and HTML forms.  ``pelayanan report sla --format csv --table clocks`` prints one table;
``--table all -o DIR`` writes ``DIR/NAME.csv`` for every table; the names are listed by
`table_names` (and in ``docs/reports.md``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence

import attrs

from pelayanan.exceptions import ReportError
from pelayanan.reports.at_risk import AtRiskReport
from pelayanan.reports.ikm import IKMResult, round_half_up
from pelayanan.reports.open311 import OPEN311_FIELDS
from pelayanan.reports.quality import QualityIndex
from pelayanan.reports.replay import ReportBasis
from pelayanan.reports.sla_report import SLAReport

__all__ = [
    "SLA_TABLES",
    "Table",
    "at_risk_tables",
    "basis_table",
    "ikm_tables",
    "open311_tables",
    "pick_table",
    "quality_tables",
    "render_csv",
    "sla_tables",
    "table_names",
]

#: The tables of the SLA report, in the order they are printed.
SLA_TABLES = (
    "flow",
    "clocks",
    "stages",
    "backlog",
    "refused",
    "periods",
    "attribution",
    "basis",
)


@attrs.frozen
class Table:
    """One table of a report.

    Attributes:
        name: the table's name (``--table NAME``, the CSV file's stem).
        header: the column names.
        rows: the rows, each as long as the header.
    """

    name: str
    header: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]


def render_csv(table: Table) -> str:
    """Render a table as CSV: the header row, then one line per row (``None`` is empty).

    Args:
        table: the table.

    Returns:
        The CSV text, ``\\n`` line ends, trailing newline included.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.header)
    writer.writerows(tuple("" if cell is None else cell for cell in row) for row in table.rows)
    return out.getvalue()


def table_names(tables: Iterable[Table]) -> tuple[str, ...]:
    """Return the names of *tables*, in order."""
    return tuple(table.name for table in tables)


def pick_table(tables: Sequence[Table], name: str) -> Table:
    """Return the table called *name*.

    Raises:
        ReportError: no table has that name; the message lists the names.
    """
    for table in tables:
        if table.name == name:
            return table
    raise ReportError(
        f"this report has no table {name!r}; choose one of {', '.join(table_names(tables))} "
        "(or all, with -o DIR)"
    )


def _utc(instant: dt.datetime | None) -> str | None:
    return None if instant is None else instant.astimezone(dt.UTC).isoformat()


def basis_table(basis: ReportBasis) -> Table:
    """Return the basis of a report (checkpoint, calendar, rules) as ``key,value`` rows."""
    rows: list[tuple[object, ...]] = [
        ("ledger", basis.log.ledger),
        ("size", basis.log.size),
        ("root", basis.log.root),
        ("first_entry_time", _utc(basis.log.first_time)),
        ("last_entry_time", _utc(basis.log.last_time)),
        ("calendar", basis.calendar),
        ("estimated_dates", " ".join(d.isoformat() for d in basis.estimated_dates)),
    ]
    rows.extend((f"rules.{key}", value) for key, value in sorted(basis.rules.items()))
    return Table("basis", ("key", "value"), tuple(rows))


def sla_tables(report: SLAReport) -> tuple[Table, ...]:
    """Return every table of the SLA report (`SLA_TABLES`, in that order).

    Group ``*`` is all requests; the other groups are the ``--by`` groups.
    """
    groups = (report.total, *report.groups)
    names = ["*", *(g.key for g in report.groups)]
    named = tuple(zip(names, groups, strict=True))
    return (
        Table(
            "flow",
            (
                "group",
                "received",
                "closed",
                "open",
                "reopened",
                "rerouted",
                "breaches_held",
                "breach_held_s",
            ),
            tuple(
                (
                    n,
                    g.received,
                    g.closed,
                    g.open,
                    g.reopened,
                    g.rerouted,
                    g.breaches_held,
                    g.breach_held_s,
                )
                for n, g in named
            ),
        ),
        Table(
            "clocks",
            (
                "group",
                "clock",
                "met",
                "breached",
                "running",
                "paused",
                "overdue",
                "compliance",
                "compliance_with_overdue",
                "overrun_s",
            ),
            tuple(
                (
                    n,
                    c.clock,
                    c.met,
                    c.breached,
                    c.running,
                    c.paused,
                    c.overdue,
                    c.compliance,
                    c.compliance_with_overdue,
                    c.overrun_s,
                )
                for n, g in named
                for c in g.clocks
            ),
        ),
        Table(
            "stages",
            ("group", "state", "count", "median_s", "p90_s", "max_s"),
            tuple(
                (n, state, s.count, s.median, s.p90, s.max)
                for n, g in named
                for state, s in g.stages
            ),
        ),
        Table(
            "backlog",
            ("group", "age", "open"),
            tuple((n, bucket, count) for n, g in named for bucket, count in g.backlog),
        ),
        Table(
            "refused",
            ("group", "reason", "count"),
            tuple((n, reason, count) for n, g in named for reason, count in g.refused),
        ),
        Table(
            "periods",
            ("period", "received", "closed", "met", "breached", "compliance"),
            tuple(
                (p.period, p.received, p.closed, p.met, p.breached, p.compliance)
                for p in report.periods
            ),
        ),
        Table(
            "attribution",
            ("unit", "officer", "breached", "open", "held_s"),
            tuple((a.unit, a.officer, a.breached, a.open, a.held_s) for a in report.attribution),
        ),
        basis_table(report.basis),
    )


def at_risk_tables(report: AtRiskReport) -> tuple[Table, ...]:
    """Return the at-risk report's tables: ``at_risk``, ``without_history`` and ``basis``."""
    return (
        Table(
            "at_risk",
            (
                "request",
                "service",
                "state",
                "unit",
                "officer",
                "clock",
                "deadline",
                "risk",
                "remaining_s",
                "in_state_s",
                "expected_s",
                "expected_p90_s",
                "samples",
            ),
            tuple(
                (
                    i.request,
                    i.service,
                    i.state,
                    i.unit,
                    i.officer,
                    i.clock,
                    _utc(i.deadline),
                    i.risk,
                    i.remaining_s,
                    i.in_state_s,
                    i.expected_s,
                    i.expected_p90_s,
                    i.samples,
                )
                for i in report.items
            ),
        ),
        Table("without_history", ("request", "state"), report.without_history),
        basis_table(report.basis),
    )


def ikm_tables(result: IKMResult, basis: ReportBasis | None = None) -> tuple[Table, ...]:
    """Return the IKM tables: ``unsur``, ``result`` (and ``basis`` from a log)."""
    weighting = result.rounded_weight
    tables = [
        Table(
            "unsur",
            ("key", "name", "weight", "total", "nrr", "nrr_exact"),
            tuple(
                (
                    u.key,
                    u.name,
                    str(weighting if weighting is not None else u.weight),
                    u.total,
                    u.nrr_text,
                    str(u.nrr),
                )
                for u in result.unsur
            ),
        ),
        Table(
            "result",
            (
                "rules",
                "respondents",
                "weighting",
                "index",
                "index_exact",
                "ikm",
                "ikm_exact",
                "mutu",
                "kinerja",
            ),
            (
                (
                    result.rules.name,
                    result.respondents,
                    "exact" if weighting is None else "rounded",
                    result.index_text,
                    str(result.index),
                    result.ikm,
                    str(result.converted),
                    result.mutu,
                    result.kinerja,
                ),
            ),
        ),
    ]
    if basis is not None:
        tables.append(basis_table(basis))
    return tuple(tables)


def quality_tables(index: QualityIndex) -> tuple[Table, ...]:
    """Return the quality-index tables: ``components``, ``index`` and ``basis``."""
    return (
        Table(
            "components",
            (
                "component",
                "weight",
                "numerator",
                "denominator",
                "value",
                "value_percent",
                "entries",
                "note",
            ),
            tuple(
                (
                    c.name,
                    str(c.weight),
                    None if c.numerator is None else str(c.numerator),
                    c.denominator,
                    None if c.value is None else str(c.value),
                    None if c.value is None else str(round_half_up(c.value * 100, 2)),
                    " ".join(map(str, c.entries)),
                    c.note,
                )
                for c in index.components
            ),
        ),
        Table(
            "index",
            ("configuration", "index", "index_exact", "missing"),
            (
                (
                    index.config.version,
                    index.index,
                    None if index.exact is None else str(index.exact),
                    " ".join(index.missing),
                ),
            ),
        ),
        basis_table(index.basis),
    )


def open311_tables(feed: Sequence[Mapping[str, str | None]]) -> tuple[Table, ...]:
    """Return the Open311 feed as one table, ``requests`` (the GeoReport v2 fields)."""
    rows = tuple(tuple(request[f] for f in OPEN311_FIELDS) for request in feed)
    return (Table("requests", OPEN311_FIELDS, rows),)
