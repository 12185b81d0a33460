"""The reports as a head of unit reads them: instant first, labels, sentences, footer.

`render_readable_text` is what ``pelayanan report sla`` prints by default (``--lang id``
or ``en``); the HTML page (`pelayanan.reports.html`) shows the same summary and the same
rows.  `render_at_risk_text` and `render_quality_text` are the text of ``report at-risk``
and ``report quality``.  The figures are those of the `SLAReport` (and its `Summary`),
`AtRiskReport` and `QualityIndex`; only the wording differs from the auditor's forms
(their ``render_text``, JSON, CSV), and the technical basis (checkpoint, root,
fingerprints, rule versions) closes each report as a footer.
"""

from __future__ import annotations

import datetime as dt

from pelayanan.reports._stats import percent
from pelayanan.reports.at_risk import AtRiskItem, AtRiskReport
from pelayanan.reports.ikm import round_half_up
from pelayanan.reports.quality import ComponentValue, QualityIndex
from pelayanan.reports.replay import ReportBasis
from pelayanan.reports.sla_report import GroupFigures, SLAReport
from pelayanan.reports.summary import Summary
from pelayanan.reports.wording import Wording

__all__ = [
    "attribution_rows",
    "backlog_rows",
    "clock_rows",
    "footer_lines",
    "oldest_rows",
    "refusal_rows",
    "render_at_risk_text",
    "render_quality_text",
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
    return f"{_as_of(report.as_of, wording, zone)}; {window}"


def _as_of(instant: dt.datetime | None, wording: Wording, zone: dt.tzinfo) -> str:
    when = "-" if instant is None else wording.instant(instant, zone)
    return f"{wording.phrase('as_of')} {when}"


def footer_lines(basis: ReportBasis, wording: Wording, *extra: str) -> list[str]:
    """Return the technical footer: the basis (checkpoint, root, fingerprints) and *extra*."""
    return _section(
        wording.phrase("footer"),
        [f"  {line}" for line in (*basis.render_lines(), *extra)],
    )


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
            else _no_quality(quality, w)
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
    lines += footer_lines(report.basis, w, f"{w.phrase('verdicts')}: {report.verdict_source}")
    return "\n".join(lines) + "\n"


def _risk_reason(item: AtRiskItem, wording: Wording, zone: dt.tzinfo) -> str:
    """Return why *item* is at risk, in the wording's language."""
    w = wording
    values = {
        "deadline": w.instant(item.deadline, zone),
        "in_state": w.duration(item.in_state_s, working=True),
        "remaining": w.duration(item.remaining_s, working=True),
        "samples": item.samples,
    }
    if item.risk == "overdue":
        return w.phrase("reason.overdue", overdue=w.duration(-item.remaining_s, working=True),
                        **values)  # fmt: skip
    if item.risk == "stalled":
        return w.phrase("reason.stalled", **values)
    return w.phrase(
        "reason.expected",
        median=w.duration(item.expected_s, working=True),
        p90=w.duration(item.expected_p90_s, working=True),
        longer=item.longer,
        **values,
    )


def render_at_risk_text(report: AtRiskReport, wording: Wording, *, zone: dt.tzinfo) -> str:
    """Render the at-risk list for an operations room: instant, items by risk, footer.

    Args:
        report: the at-risk report.
        wording: the language, labels and directory to speak with.
        zone: the time zone instants are shown in (the report calendar's).

    Returns:
        The text, trailing newline included.
    """
    w = wording
    lines = [
        f"{w.phrase('at_risk_title')}: {report.basis.log.ledger}",
        _as_of(report.at, w, zone),
        w.phrase("at_risk_judged", considered=report.considered, count=len(report.items)),
    ]
    for level in ("overdue", "likely", "possible", "stalled"):
        lines += _section(
            w.phrase(f"risk.{level}"),
            [
                f"  {item.request} \u00b7 {w.service(item.service)} \u00b7 "
                f"{w.state(item.state)} \u00b7 {w.phrase('clock')} {w.clock(item.clock)} "
                f"\u00b7 {w.unit(item.unit)} / {w.officer(item.officer)}\n"
                f"    {_risk_reason(item, w, zone)}"
                for item in report.items
                if item.risk == level
            ],
        )
    lines += _section(
        w.phrase("without_history", min=report.min_samples),
        # One line per request and stage, however many of its clocks were not judged.
        [
            f"  {request} \u00b7 {w.state(state)}"
            for request, state in dict.fromkeys(report.without_history)
        ],
    )
    lines += footer_lines(report.basis, w, f"{w.phrase('verdicts')}: {report.verdict_source}")
    return "\n".join(lines) + "\n"


def _component_line(component: ComponentValue, wording: Wording) -> str:
    w = wording
    label = w.phrase(f"component.{component.name}")
    weight = w.number(component.weight)
    if component.value is None or component.numerator is None:
        return f"  {label}: {w.phrase('component_line', weight=weight, value=w.phrase('no_data'))}"
    value = w.percent(str(round_half_up(component.value * 100, 2)))
    # The IKM is a score with two decimals; the other numerators are counts.
    exact = component.numerator
    numerator = w.number(round_half_up(exact, 2)) if component.name == "ikm" else str(exact)
    note = w.phrase(
        f"note.{component.name}", numerator=numerator, denominator=component.denominator
    )
    return f"  {label}: {w.phrase('component_line', weight=weight, value=value)} ({note})"


def _no_quality(index: QualityIndex, wording: Wording) -> str:
    """Return that the index is not computed, naming the components without data."""
    missing = ", ".join(wording.phrase(f"component.{name}") for name in index.missing)
    return wording.phrase("no_quality", missing=missing)


def _entries_line(component: ComponentValue, wording: Wording) -> str:
    seqs = ", ".join(str(s) for s in component.entries[:8]) or "-"
    if len(component.entries) > 8:
        seqs += " " + wording.phrase("and_more", count=len(component.entries) - 8)
    return wording.phrase("entries", name=component.name, seqs=seqs)


def render_quality_text(index: QualityIndex, wording: Wording, *, zone: dt.tzinfo) -> str:
    """Render the service-quality index: instant, index, components, technical footer.

    The footer holds the basis, the configuration and formula, and each component's
    entries (the sequence numbers anyone can recompute it from).

    Args:
        index: the computed index.
        wording: the language and labels to speak with.
        zone: the time zone the instant is shown in (the report calendar's).

    Returns:
        The text, trailing newline included.
    """
    w = wording
    shown = _no_quality(index, w) if index.index is None else w.number(index.index)
    lines = [
        f"{w.phrase('quality')}: {index.basis.log.ledger}",
        _as_of(index.basis.at, w, zone),
        f"{w.phrase('index')}: {shown}",
    ]
    lines += _section(w.phrase("quality_table"), [_component_line(c, w) for c in index.components])
    lines += footer_lines(
        index.basis,
        w,
        w.phrase("formula", version=index.config.version),
        *(_entries_line(c, w) for c in index.components),
    )
    return "\n".join(lines) + "\n"
