"""The SLA report as a head of unit reads it: summary first, labels, sentences, footer.

`render_readable_text` is what ``pelayanan report sla`` prints by default (``--lang id``
or ``en``); the HTML page (`pelayanan.reports.html`) shows the same summary and the same
rows.  The figures are those of the `SLAReport` and its `Summary`; only the wording
differs from the auditor's forms (`SLAReport.render_text`, JSON, CSV), and the technical
basis (checkpoint, root, fingerprints, rule versions) closes the report as a footer.
"""

from __future__ import annotations

import datetime as dt

from pelayanan.reports._stats import percent
from pelayanan.reports.sla_report import GroupFigures, SLAReport
from pelayanan.reports.summary import Summary
from pelayanan.reports.wording import Wording

__all__ = [
    "attribution_rows",
    "backlog_rows",
    "clock_rows",
    "oldest_rows",
    "refusal_rows",
    "render_readable_text",
    "render_summary_lines",
    "stage_rows",
    "summary_lines",
    "window_line",
]


def window_line(report: SLAReport, wording: Wording, zone: dt.tzinfo) -> str:
    """Return the report instant and the receipt window, in words."""
    if report.received_from or report.received_to:
        window = wording.phrase(
            "window", start=report.received_from or "...", end=report.received_to or "..."
        )
    else:
        window = wording.phrase("window_all")
    when = "-" if report.as_of is None else wording.instant(report.as_of, zone)
    return f"{wording.phrase('as_of')} {when}; {window}"


def summary_lines(
    summary: Summary, wording: Wording
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Return the summary as ``(label, text)`` lines, in two parts.

    The first part is the state of the service (requests, compliance, trend, at risk),
    the second the scores (IKM, quality index); the oldest open requests
    (`oldest_rows`) go between them.
    """
    w = wording
    counts = (
        f"{summary.received} {w.phrase('received')}, {summary.closed} {w.phrase('closed')}, "
        f"{summary.open} {w.phrase('open')}"
    )
    if summary.compliance is None:
        compliance = w.phrase("no_compliance")
    else:
        compliance = w.phrase(
            "compliance_line",
            concluded=w.percent(summary.compliance),
            overdue=w.percent(summary.compliance_with_overdue),
        )
    lines = [(w.phrase("requests"), counts), (w.phrase("compliance"), compliance)]
    if summary.trend:
        points = " \u00b7 ".join(f"{period} {w.percent(value)}" for period, value in summary.trend)
        direction = summary.trend_direction
        lines.append(
            (w.phrase("trend"), points + (f" ({w.phrase(direction)})" if direction else ""))
        )
    risky = [f"{count} {w.phrase(f'risk.{level}')}" for level, count in summary.at_risk if count]
    lines.append((w.phrase("at_risk"), ", ".join(risky) or w.phrase("none_at_risk")))
    scores: list[tuple[str, str]] = []
    if summary.ikm is None:
        scores.append((w.phrase("ikm"), w.phrase("no_ikm")))
    else:
        ikm = summary.ikm
        scores.append(
            (
                w.phrase("ikm"),
                w.phrase(
                    "ikm_line",
                    ikm=w.percent(ikm.ikm).removesuffix("%"),
                    mutu=ikm.mutu,
                    kinerja=ikm.kinerja,
                    respondents=ikm.respondents,
                ),
            )
        )
    quality = summary.quality
    if quality is not None:
        shown = (
            w.percent(quality.index).removesuffix("%")
            if quality.index is not None
            else w.phrase("no_quality", missing=", ".join(quality.missing))
        )
        scores.append((w.phrase("quality"), shown))
    return lines, scores


def render_summary_lines(summary: Summary, wording: Wording) -> list[str]:
    """Return the summary as indented text lines (what the text report opens with)."""
    w = wording
    head, scores = summary_lines(summary, w)
    width = max(len(label) for label, _ in (*head, *scores))
    lines = [f"  {label:<{width}}  {text}" for label, text in head]
    if summary.oldest:
        lines.append(f"  {w.phrase('oldest')}:")
        lines.extend(
            f"    {req}  {stage} \u00b7 {w.phrase('age')} {age} \u00b7 {unit} / {officer}"
            for req, stage, age, unit, officer in oldest_rows(summary, w)
        )
    lines.extend(f"  {label:<{width}}  {text}" for label, text in scores)
    return lines


def oldest_rows(summary: Summary, wording: Wording) -> list[list[str]]:
    """Return the oldest open requests: id, stage, age, unit, officer."""
    return [
        [
            o.request,
            wording.state(o.state),
            wording.duration(o.age_s),
            wording.unit(o.unit),
            wording.officer(o.officer),
        ]
        for o in summary.oldest
    ]


def clock_rows(group: GroupFigures, wording: Wording) -> list[list[object]]:
    """Return one row per clock, in the SOPs' order.

    Each row: label, met, breached, running, paused, overdue, both compliance figures.
    """
    order = wording.clock_order()
    clocks = sorted(group.clocks, key=lambda c: (order.get(c.clock, len(order)), c.clock))
    return [
        [
            wording.clock(c.clock),
            c.met,
            c.breached,
            c.running,
            c.paused,
            c.overdue,
            wording.percent(c.compliance),
            wording.percent(c.compliance_with_overdue),
        ]
        for c in clocks
    ]


def stage_rows(group: GroupFigures, wording: Wording) -> list[list[object]]:
    """Return one row per stage, in workflow order: label, stays, median, p90, longest."""
    return [
        [
            wording.state(state),
            s.count,
            wording.duration(s.median, working=True),
            wording.duration(s.p90, working=True),
            wording.duration(s.max, working=True),
        ]
        for state, s in group.stages
    ]


def backlog_rows(group: GroupFigures, wording: Wording) -> list[list[object]]:
    """Return the backlog buckets: age in days, open requests."""
    return [
        [wording.phrase("days", label=label.removesuffix(" d")), count]
        for label, count in group.backlog
    ]


def refusal_rows(group: GroupFigures, wording: Wording) -> list[list[object]]:
    """Return the refused attempts as sentences with their counts, most frequent first."""
    ordered = sorted(group.refused, key=lambda item: (-item[1], item[0]))
    return [[wording.refusal(reason), count] for reason, count in ordered]


def attribution_rows(report: SLAReport, wording: Wording) -> list[list[object]]:
    """Return the breach attribution: unit, officer, breached clocks, still running, time."""
    return [
        [
            wording.unit(a.unit),
            wording.officer(a.officer),
            a.breached,
            a.open,
            wording.duration(a.held_s, working=True),
        ]
        for a in report.attribution
    ]


def _section(title: str, lines: list[str]) -> list[str]:
    return ["", title.upper(), *lines] if lines else []


def _group_line(report: SLAReport, group: GroupFigures, wording: Wording) -> str:
    w = wording
    name = w.unit(group.key) if report.by == "unit" else group.key
    if report.by == "officer":
        name = w.officer(group.key)
    elif report.by == "service":
        name = w.service(group.key)
    met = sum(c.met for c in group.clocks)
    counted = met + sum(c.breached + c.overdue for c in group.clocks)
    share = w.percent(percent(met, counted))
    return (
        f"  {name}: {group.received} {w.phrase('received')}, {group.closed} "
        f"{w.phrase('closed')}, {group.open} {w.phrase('open')}; "
        f"{w.phrase('compliance_overdue')} {share}"
    )


def render_readable_text(
    report: SLAReport, summary: Summary, wording: Wording, *, zone: dt.tzinfo
) -> str:
    """Render the report for a head of unit: summary, details, technical footer.

    Args:
        report: the SLA report.
        summary: its summary (`pelayanan.reports.summary.build_summary`).
        wording: the language, labels and directory to speak with.
        zone: the time zone instants are shown in (the report calendar's).

    Returns:
        The text, trailing newline included.
    """
    w = wording
    total = report.total
    lines = [
        f"{w.phrase('title')}: {report.basis.log.ledger}",
        window_line(report, w, zone),
        "",
        w.phrase("summary").upper(),
        *render_summary_lines(summary, w),
    ]
    lines += _section(
        w.phrase("clocks"),
        [
            f"  {label}: {w.phrase('compliance_concluded')} {concluded}, "
            f"{w.phrase('compliance_overdue')} {with_overdue} ({w.phrase('met')} {met}, "
            f"{w.phrase('breached')} {breached}, {w.phrase('running')} {running}, "
            f"{w.phrase('paused')} {paused}, {w.phrase('overdue')} {overdue})"
            for label, met, breached, running, paused, overdue, concluded, with_overdue in (
                clock_rows(total, w)
            )
        ],
    )
    lines += _section(
        w.phrase("stages"),
        [
            f"  {label}: {count} {w.phrase('stays')}, {w.phrase('median')} {median}, "
            f"{w.phrase('p90')} {p90}, {w.phrase('max')} {longest}"
            for label, count, median, p90, longest in stage_rows(total, w)
        ],
    )
    if any(count for _, count in total.backlog):
        lines += _section(
            w.phrase("backlog"),
            ["  " + ", ".join(f"{label}: {count}" for label, count in backlog_rows(total, w))],
        )
    lines += _section(
        w.phrase("refused"),
        [
            f"  {sentence} ({w.phrase('times', count=count)})"
            for sentence, count in refusal_rows(total, w)
        ],
    )
    lines += _section(
        w.phrase("attribution"),
        [
            f"  {unit} / {officer}: {w.phrase('breached_clocks', count=breached)}"
            + (f" ({still} {w.phrase('still_open')})" if still else "")
            + f", {w.phrase('held')} {held}"
            for unit, officer, breached, still, held in attribution_rows(report, w)
        ],
    )
    if report.by is not None:
        lines += _section(
            w.phrase("groups", by=w.phrase(f"by.{report.by}")),
            [_group_line(report, g, w) for g in report.groups],
        )
    lines += _section(
        w.phrase("periods"),
        [
            f"  {p.period}: {p.received} {w.phrase('received')}, {p.closed} "
            f"{w.phrase('closed')}, {w.phrase('compliance')} {w.percent(p.compliance)}"
            for p in report.periods
        ],
    )
    lines += _section(
        w.phrase("footer"),
        [
            *(f"  {line}" for line in report.basis.render_lines()),
            f"  {w.phrase('verdicts')}: {report.verdict_source}",
        ],
    )
    return "\n".join(lines) + "\n"
