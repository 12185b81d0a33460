"""One self-contained HTML report with charts (needs the ``report`` extra: matplotlib).

The page works offline: the charts are inline SVG drawn by matplotlib, the style is an
inline ``<style>`` block, and there is no script at all.  The SVG is made reproducible
(fixed id salt, no creation date), so the same checkpoint gives the same bytes.

Charts: compliance over time (with received and closed per period), time in each state
(median and p90, working hours), backlog by age, and the IKM per unsur (NRR, 1-4).
"""

from __future__ import annotations

import html
import importlib.util
import io
from collections.abc import Sequence

from pelayanan.exceptions import ReportError
from pelayanan.reports._stats import format_seconds
from pelayanan.reports.ikm import IKMResult, round_half_up
from pelayanan.reports.quality import QualityIndex
from pelayanan.reports.sla_report import SLAReport

__all__ = ["CHART_COLOR", "available", "render_html"]

#: The main colour of every chart (tests look for it in a screenshot).
CHART_COLOR = "#1f6f8b"
_SECOND_COLOR = "#e07a1f"

_STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 60em;
       color: #222; background: #fff; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .5em 0 1em; }
td, th { border: 1px solid #ccc; padding: .2em .6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.basis { font-family: monospace; font-size: .85em; color: #444; word-break: break-all; }
.chart { margin: 1em 0; } .chart svg { width: 100%; height: auto; }
.note { color: #666; font-size: .9em; }
"""


def available() -> bool:
    """Say whether the plotting library of the ``report`` extra is installed."""
    return importlib.util.find_spec("matplotlib") is not None


def _svg(draw: object, *, width: float = 7.5, height: float = 3.2) -> str:
    import matplotlib as mpl  # noqa: PLC0415  (optional dependency)
    from matplotlib.figure import Figure  # noqa: PLC0415

    with mpl.rc_context({"svg.hashsalt": "pelayanan", "svg.fonttype": "none", "font.size": 9}):
        figure = Figure(figsize=(width, height))
        axes = figure.add_subplot()
        draw(axes)  # type: ignore[operator]
        figure.tight_layout()
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    text = out.getvalue()
    # Inline in HTML: drop the XML prolog and doctype, keep the <svg> element.
    return text[text.index("<svg") :]


def _chart(title: str, svg: str) -> str:
    return f'<div class="chart"><h3>{html.escape(title)}</h3>\n{svg}</div>'


def _compliance_chart(report: SLAReport) -> str:
    periods = report.periods
    labels = [p.period for p in periods]

    def draw(axes: object) -> None:
        from matplotlib.axes import Axes  # noqa: PLC0415

        assert isinstance(axes, Axes)
        xs = list(range(len(labels)))
        axes.bar([x - 0.2 for x in xs], [p.received for p in periods], 0.4,
                 color=CHART_COLOR, label="received")  # fmt: skip
        axes.bar([x + 0.2 for x in xs], [p.closed for p in periods], 0.4,
                 color=_SECOND_COLOR, label="closed")  # fmt: skip
        axes.set_xticks(xs, labels, rotation=30, ha="right")
        axes.set_ylabel("requests")
        judged = [(x, p.compliance) for x, p in zip(xs, periods, strict=True) if p.compliance]
        handles, names = axes.get_legend_handles_labels()
        if judged:
            twin = axes.twinx()
            twin.plot([x for x, _ in judged], [float(c) for _, c in judged], color="#2a9d3a",
                      marker="o", label="SLA compliance %")  # fmt: skip
            twin.set_ylim(0, 105)
            twin.set_ylabel("compliance %")
            more, more_names = twin.get_legend_handles_labels()
            handles, names = handles + more, names + more_names
        axes.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, 1.16), ncol=3)

    return _chart("Compliance over time (requests per period, compliance %)", _svg(draw))


def _stage_chart(report: SLAReport) -> str:
    stages = report.total.stages

    def draw(axes: object) -> None:
        from matplotlib.axes import Axes  # noqa: PLC0415

        assert isinstance(axes, Axes)
        ys = list(range(len(stages)))
        axes.barh([y + 0.2 for y in ys], [s.median / 3600 for _, s in stages], 0.4,
                  color=CHART_COLOR, label="median")  # fmt: skip
        axes.barh([y - 0.2 for y in ys], [s.p90 / 3600 for _, s in stages], 0.4,
                  color=_SECOND_COLOR, label="p90")  # fmt: skip
        axes.set_yticks(ys, [state for state, _ in stages])
        axes.set_xlabel("working hours")
        axes.legend(loc="lower right")

    return _chart("Time in each state (working hours)", _svg(draw))


def _backlog_chart(report: SLAReport) -> str:
    backlog = report.total.backlog

    def draw(axes: object) -> None:
        from matplotlib.axes import Axes  # noqa: PLC0415

        assert isinstance(axes, Axes)
        axes.bar([label for label, _ in backlog], [count for _, count in backlog],
                 color=CHART_COLOR)  # fmt: skip
        axes.set_ylabel("open requests")
        axes.set_xlabel("age since receipt (calendar days)")

    return _chart("Backlog by age", _svg(draw, height=2.6))


def _ikm_chart(ikm: IKMResult) -> str:
    def draw(axes: object) -> None:
        from matplotlib.axes import Axes  # noqa: PLC0415

        assert isinstance(axes, Axes)
        axes.bar([u.key for u in ikm.unsur], [float(u.nrr) for u in ikm.unsur],
                 color=CHART_COLOR)  # fmt: skip
        axes.set_ylim(1, 4)
        axes.set_ylabel("NRR (1-4)")
        axes.tick_params(axis="x", labelrotation=30)

    return _chart(f"IKM per unsur (IKM {ikm.ikm}, mutu {ikm.mutu})", _svg(draw))


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(
    report: SLAReport, *, ikm: IKMResult | None = None, quality: QualityIndex | None = None
) -> str:
    """Render the SLA report (and the IKM and quality index, if given) as one HTML page.

    Args:
        report: the SLA and flow report.
        ikm: the IKM of the survey responses in the same log.
        quality: the service-quality index of the same log.

    Returns:
        A complete HTML document with inline SVG charts and no script.

    Raises:
        ReportError: matplotlib is not installed (``pip install 'pelayanan[report]'``).
    """
    if not available():
        raise ReportError("the HTML report needs matplotlib: pip install 'pelayanan[report]'")
    basis = report.basis
    total = report.total
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>pelayanan report: {html.escape(basis.log.ledger)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Service report: ledger {html.escape(basis.log.ledger)}</h1>",
        '<p class="basis">'
        + "<br>".join(html.escape(line) for line in basis.render_lines())
        + "</p>",
        f'<p class="note">clock verdicts: {html.escape(report.verdict_source)}</p>',
        "<h2>Flow</h2>",
        _table(
            ["requests", "received", "closed", "open", "re-opened", "re-routed"],
            [["all", total.received, total.closed, total.open, total.reopened, total.rerouted]]
            + [
                [f"{report.by} {g.key}", g.received, g.closed, g.open, g.reopened, g.rerouted]
                for g in report.groups
            ],
        ),
    ]
    clocks = [
        [
            c.clock,
            c.met,
            c.breached,
            c.running,
            c.paused,
            c.overdue,
            c.compliance or "-",
            c.compliance_with_overdue or "-",
        ]
        for c in total.clocks
    ]
    if clocks:
        parts.append("<h2>SLA compliance</h2>")
        parts.append(
            _table(
                [
                    "clock",
                    "met",
                    "breached",
                    "running",
                    "paused",
                    "overdue",
                    "compliance % (concluded)",
                    "compliance % (overdue as breached)",
                ],
                clocks,
            )
        )
    if report.attribution:
        parts.append("<h2>Breach attribution</h2>")
        parts.append(
            _table(
                ["unit", "officer", "breached clocks held", "still open", "working time held"],
                [
                    [a.unit, a.officer, a.breached, a.open, format_seconds(a.held_s)]
                    for a in report.attribution
                ],
            )
        )
    parts.append("<h2>Charts</h2>")
    parts.append(_compliance_chart(report))
    if total.stages:
        parts.append(_stage_chart(report))
        parts.append(
            _table(
                ["state", "stays", "median", "p90", "max"],
                [
                    [
                        s,
                        st.count,
                        format_seconds(st.median),
                        format_seconds(st.p90),
                        format_seconds(st.max),
                    ]
                    for s, st in total.stages
                ],
            )
        )
    parts.append(_backlog_chart(report))
    if ikm is not None:
        parts.append(_ikm_chart(ikm))
    if total.refused:
        parts.append("<h2>Refused attempts</h2>")
        parts.append(_table(["reason", "count"], list(total.refused)))
    if quality is not None:
        parts.append("<h2>Service-quality index</h2>")
        parts.append(
            f"<p>configuration {html.escape(quality.config.version)}: "
            "index = 100 &times; &sum;(weight &times; value); "
            + (
                f"<strong>index {quality.index}</strong>"
                if quality.index is not None
                else "not computed: no data for " + html.escape(", ".join(quality.missing))
            )
            + "</p>"
        )
        parts.append(
            _table(
                ["component", "weight", "value", "from"],
                [
                    [
                        c.name,
                        c.weight,
                        "-" if c.value is None else f"{round_half_up(c.value * 100, 2)}%",
                        c.note,
                    ]
                    for c in quality.components
                ],
            )
        )
    parts.append("</body></html>\n")
    return "\n".join(parts)
