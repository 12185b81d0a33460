"""One self-contained HTML report with charts (needs the ``report`` extra: matplotlib).

The page is written for the head of unit: it opens with the summary
(`pelayanan.reports.summary`), speaks the `Wording`'s language with the SOP's labels,
names officers from a directory when one is given, lists stages in workflow order and
closes with the technical basis (checkpoint, root, fingerprints) as a footer.

The page works offline: the charts are inline SVG drawn by matplotlib, the style is an
inline ``<style>`` block, and there is no script at all.  The SVG is made reproducible
(fixed id salt, no creation date), so the same checkpoint gives the same bytes.  Every
legend sits in its own band below the plot (a figure legend outside the axes, with
constrained layout), so it never covers a bar or a line.

Charts: requests and compliance per period, time in each stage (median and p90, working
hours), backlog by age, and the IKM per unsur (NRR, 1-4).
"""

from __future__ import annotations

import datetime as dt
import html
import importlib.util
import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pelayanan.exceptions import ReportError
from pelayanan.reports.ikm import IKMResult, round_half_up
from pelayanan.reports.quality import QualityIndex
from pelayanan.reports.readable import (
    attribution_rows,
    backlog_rows,
    clock_rows,
    oldest_rows,
    refusal_rows,
    stage_rows,
    summary_lines,
    window_line,
)
from pelayanan.reports.sla_report import SLAReport
from pelayanan.reports.summary import Summary
from pelayanan.reports.wording import Wording

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["CHART_COLOR", "available", "chart_figures", "render_html"]

#: The main colour of every chart (tests look for it in a screenshot).
CHART_COLOR = "#1f6f8b"
_SECOND_COLOR = "#e07a1f"

_STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 60em;
       color: #222; background: #fff; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .5em 0 1em; }
td, th { border: 1px solid #ccc; padding: .2em .6em; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
.basis { font-family: monospace; font-size: .85em; color: #444; word-break: break-all; }
.chart { margin: 1em 0; } .chart svg { width: 100%; height: auto; }
.note { color: #666; font-size: .9em; }
.summary th { text-align: left; background: #f3f7f9; } .summary td { text-align: left; }
.summary { font-size: 1.05em; }
footer { margin-top: 2em; border-top: 1px solid #ccc; padding-top: .5em; }
"""


def available() -> bool:
    """Say whether the plotting library of the ``report`` extra is installed."""
    return importlib.util.find_spec("matplotlib") is not None


def _figure(draw: Callable[[Axes], None], *, height: float = 3.2) -> Figure:
    """Return a figure with one axes drawn by *draw*, its legend (if any) below the plot."""
    from matplotlib.figure import Figure  # noqa: PLC0415  (optional dependency)

    figure = Figure(figsize=(7.5, height), layout="constrained")
    axes = figure.add_subplot()
    draw(axes)
    handles, names = [], []
    for each in figure.axes:
        more, more_names = each.get_legend_handles_labels()
        handles += more
        names += more_names
    if handles:
        figure.legend(handles, names, loc="outside lower center", ncols=len(handles))
    return figure


def _svg(draw: Callable[[Axes], None], *, height: float = 3.2) -> str:
    import matplotlib as mpl  # noqa: PLC0415  (optional dependency)

    with mpl.rc_context({"svg.hashsalt": "pelayanan", "svg.fonttype": "none", "font.size": 9}):
        figure = _figure(draw, height=height)
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    text = out.getvalue()
    # Inline in HTML: drop the XML prolog and doctype, keep the <svg> element.
    return text[text.index("<svg") :]


def _chart(title: str, svg: str) -> str:
    return f'<div class="chart"><h3>{html.escape(title)}</h3>\n{svg}</div>'


def _period_chart(report: SLAReport, w: Wording) -> Callable[[Axes], None]:
    periods = report.periods
    labels = [p.period for p in periods]

    def draw(axes: Axes) -> None:
        xs = list(range(len(labels)))
        axes.bar([x - 0.2 for x in xs], [p.received for p in periods], 0.4,
                 color=CHART_COLOR, label=w.phrase("received"))  # fmt: skip
        axes.bar([x + 0.2 for x in xs], [p.closed for p in periods], 0.4,
                 color=_SECOND_COLOR, label=w.phrase("closed"))  # fmt: skip
        axes.set_xticks(xs, labels, rotation=30, ha="right")
        axes.set_ylabel(w.phrase("chart.requests"))
        judged = [(x, p.compliance) for x, p in zip(xs, periods, strict=True) if p.compliance]
        if judged:
            twin = axes.twinx()
            twin.plot([x for x, _ in judged], [float(c) for _, c in judged], color="#2a9d3a",
                      marker="o", label=w.phrase("chart.compliance"))  # fmt: skip
            twin.set_ylim(0, 105)
            twin.set_ylabel(w.phrase("chart.compliance"))

    return draw


def _stage_chart(report: SLAReport, w: Wording) -> Callable[[Axes], None]:
    # Workflow order from the top: the first stage on the first row.
    stages = list(reversed(report.total.stages))

    def draw(axes: Axes) -> None:
        ys = list(range(len(stages)))
        axes.barh([y + 0.2 for y in ys], [s.median / 3600 for _, s in stages], 0.4,
                  color=CHART_COLOR, label=w.phrase("median"))  # fmt: skip
        axes.barh([y - 0.2 for y in ys], [s.p90 / 3600 for _, s in stages], 0.4,
                  color=_SECOND_COLOR, label=w.phrase("p90"))  # fmt: skip
        axes.set_yticks(ys, [w.state(state) for state, _ in stages])
        axes.set_xlabel(w.phrase("chart.hours"))

    return draw


def _backlog_chart(report: SLAReport, w: Wording) -> Callable[[Axes], None]:
    labels = [str(label) for label, _ in backlog_rows(report.total, w)]
    counts = [count for _, count in report.total.backlog]

    def draw(axes: Axes) -> None:
        axes.bar(labels, counts, color=CHART_COLOR)
        axes.set_ylabel(w.phrase("chart.open"))
        axes.set_xlabel(w.phrase("chart.age"))

    return draw


def _ikm_chart(ikm: IKMResult) -> Callable[[Axes], None]:
    def draw(axes: Axes) -> None:
        axes.bar([u.key for u in ikm.unsur], [float(u.nrr) for u in ikm.unsur],
                 color=CHART_COLOR)  # fmt: skip
        axes.set_ylim(1, 4)
        axes.set_ylabel("NRR (1-4)")
        axes.tick_params(axis="x", labelrotation=30)

    return draw


def chart_figures(
    report: SLAReport, *, ikm: IKMResult | None = None, wording: Wording | None = None
) -> dict[str, Figure]:
    """Return the page's charts as matplotlib figures, by name (for checks and reuse).

    Args:
        report: the SLA report.
        ikm: the IKM of the same log, for its chart.
        wording: the language and labels (default: Indonesian, ids as labels).

    Returns:
        ``periods``, ``stages`` (when a stay was completed), ``backlog`` and ``ikm``
        (when given).
    """
    w = wording if wording is not None else Wording()
    figures = {"periods": _figure(_period_chart(report, w))}
    if report.total.stages:
        figures["stages"] = _figure(_stage_chart(report, w))
    figures["backlog"] = _figure(_backlog_chart(report, w), height=2.6)
    if ikm is not None:
        figures["ikm"] = _figure(_ikm_chart(ikm))
    return figures


def _cell(value: object) -> str:
    # Words read from the left, figures from the right.
    text = str(value)
    words = isinstance(value, str) and any(ch.isalpha() for ch in text)
    return (
        f'<td class="text">{html.escape(text)}</td>' if words else f"<td>{html.escape(text)}</td>"
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[object]], css: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
    klass = f' class="{css}"' if css else ""
    return f"<table{klass}><tr>{head}</tr>{body}</table>"


def _summary(summary: Summary, w: Wording) -> list[str]:
    head, tail = summary_lines(summary, w)

    def rows(lines: list[tuple[str, str]]) -> str:
        return "".join(
            f"<tr><th>{html.escape(label)}</th><td>{html.escape(text)}</td></tr>"
            for label, text in lines
        )

    parts = [f"<h2>{html.escape(w.phrase('summary'))}</h2>"]
    parts.append(f'<table class="summary">{rows(head)}</table>')
    if summary.oldest:
        parts.append(f"<h3>{html.escape(w.phrase('oldest'))}</h3>")
        header = ["", w.phrase("stage"), w.phrase("age"), w.phrase("unit"), w.phrase("officer")]
        parts.append(_table(header, oldest_rows(summary, w)))
    parts.append(f'<table class="summary">{rows(tail)}</table>')
    return parts


def _h2(w: Wording, key: str, **values: object) -> str:
    return f"<h2>{html.escape(w.phrase(key, **values))}</h2>"


def _details(report: SLAReport, w: Wording) -> list[str]:
    total = report.total
    parts: list[str] = []
    if total.clocks:
        parts.append(_h2(w, "clocks"))
        header = [w.phrase(k) for k in ("clock", "met", "breached", "running", "paused",
                                         "overdue", "compliance_concluded",
                                         "compliance_overdue")]  # fmt: skip
        parts.append(_table(header, clock_rows(total, w)))
    if total.stages:
        parts.append(_h2(w, "stages"))
        header = [w.phrase(k) for k in ("stage", "stays", "median", "p90", "max")]
        parts.append(_table(header, stage_rows(total, w)))
    if total.refused:
        parts.append(_h2(w, "refused"))
        parts.append(_table([w.phrase("reason"), w.phrase("count")], refusal_rows(total, w)))
    if report.attribution:
        parts.append(_h2(w, "attribution"))
        header = [w.phrase(k) for k in ("unit", "officer", "breached", "still_open", "held")]
        parts.append(_table(header, attribution_rows(report, w)))
    if report.by is not None and report.groups:
        parts.append(_h2(w, "groups", by=w.phrase(f"by.{report.by}")))
        header = [w.phrase(f"by.{report.by}"), w.phrase("received"), w.phrase("closed"),
                  w.phrase("open")]  # fmt: skip
        rows = [[g.key, g.received, g.closed, g.open] for g in report.groups]
        parts.append(_table(header, rows))
    return parts


def _quality(quality: QualityIndex, w: Wording) -> list[str]:
    return [
        _h2(w, "quality_table"),
        _table(
            [w.phrase("component"), w.phrase("weight"), w.phrase("value"), w.phrase("source")],
            [
                [
                    c.name,
                    c.weight,
                    "-" if c.value is None else w.percent(str(round_half_up(c.value * 100, 2))),
                    c.note,
                ]
                for c in quality.components
            ],
        ),
    ]


def render_html(
    report: SLAReport,
    *,
    ikm: IKMResult | None = None,
    quality: QualityIndex | None = None,
    summary: Summary | None = None,
    wording: Wording | None = None,
    zone: dt.tzinfo = dt.UTC,
) -> str:
    """Render the SLA report (with its summary, IKM and quality index) as one HTML page.

    Args:
        report: the SLA and flow report.
        ikm: the IKM of the survey responses in the same log.
        quality: the service-quality index of the same log.
        summary: the head of unit's summary, shown first.
        wording: the language, labels and directory (default: Indonesian, ids as labels).
        zone: the time zone instants are shown in (the report calendar's).

    Returns:
        A complete HTML document with inline SVG charts and no script.

    Raises:
        ReportError: matplotlib is not installed (``pip install 'pelayanan[report]'``).
    """
    if not available():
        raise ReportError("the HTML report needs matplotlib: pip install 'pelayanan[report]'")
    w = wording if wording is not None else Wording()
    basis = report.basis
    title = f"{w.phrase('title')}: {basis.log.ledger}"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{w.lang}"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="note">{html.escape(window_line(report, w, zone))}</p>',
    ]
    if summary is not None:
        parts.extend(_summary(summary, w))
    parts.extend(_details(report, w))
    parts.append(_h2(w, "charts"))
    parts.append(_chart(w.phrase("chart.periods"), _svg(_period_chart(report, w))))
    if report.total.stages:
        parts.append(_chart(w.phrase("chart.stages"), _svg(_stage_chart(report, w))))
    parts.append(_chart(w.phrase("chart.backlog"), _svg(_backlog_chart(report, w), height=2.6)))
    if ikm is not None:
        title_ikm = f"{w.phrase('chart.ikm')}: IKM {ikm.ikm}, mutu {ikm.mutu}"
        parts.append(_chart(title_ikm, _svg(_ikm_chart(ikm))))
    if quality is not None:
        parts.extend(_quality(quality, w))
    footer = [*basis.render_lines(), f"{w.phrase('verdicts')}: {report.verdict_source}"]
    parts.append(
        f'<footer><h2>{html.escape(w.phrase("footer"))}</h2><p class="basis">'
        + "<br>".join(html.escape(line) for line in footer)
        + "</p></footer>"
    )
    parts.append("</body></html>\n")
    return "\n".join(parts)
