"""The one-screen summary for a head of unit, from the figures of the same verified replay.

Every figure is one the detailed report also states, so the summary and the tables
always agree: requests received, closed and open (`SLAReport.total`), SLA compliance
over all clocks (concluded only, and with overdue running clocks counted as breached)
and its trend over the last periods, the requests at risk now (`AtRiskReport`), the
oldest open requests (aged at the report instant, in calendar time), the IKM and its
category, and the service-quality index.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import attrs

from pelayanan.reports._stats import percent
from pelayanan.reports.at_risk import AtRiskReport
from pelayanan.reports.flow import RequestFlow
from pelayanan.reports.ikm import IKMResult
from pelayanan.reports.quality import QualityIndex
from pelayanan.reports.sla_report import SLAReport

__all__ = ["RISK_LEVELS", "OpenRequest", "Summary", "build_summary"]

#: The risk levels of the at-risk report, most urgent first.
RISK_LEVELS = ("overdue", "likely", "possible", "stalled")
#: Periods shown in the compliance trend.
TREND_PERIODS = 4


@attrs.frozen
class OpenRequest:
    """One open request, for the list of the oldest.

    Attributes:
        request: the request id.
        service: its SOP id.
        state: its current state.
        received: when it was received.
        age_s: calendar seconds from receipt to the report instant.
        unit: the unit holding it.
        officer: the officer assigned, if any.
    """

    request: str
    service: str
    state: str
    received: dt.datetime
    age_s: int
    unit: str | None
    officer: str | None


@attrs.frozen
class Summary:
    """The head of unit's summary.

    Attributes:
        as_of: the report instant.
        received: requests received in the window.
        closed: of those, closed.
        open: of those, open at the instant.
        met: clocks stopped in time (all clocks of all requests counted).
        breached: clocks stopped late.
        overdue: running or paused clocks past their deadline.
        compliance: ``met / (met + breached)`` in percent, or ``None``.
        compliance_with_overdue: ``met / (met + breached + overdue)``, or ``None``.
        trend: ``(period, compliance)`` of the last periods with a concluded clock.
        at_risk: ``(level, requests)`` for each level of `RISK_LEVELS`; a request with
            several clocks at risk counts once, at its most urgent level.
        oldest: the oldest open requests, oldest first.
        ikm: the IKM of the survey answers in the log, if any.
        quality: the service-quality index, if computed.
    """

    as_of: dt.datetime | None
    received: int
    closed: int
    open: int
    met: int
    breached: int
    overdue: int
    compliance: str | None
    compliance_with_overdue: str | None
    trend: tuple[tuple[str, str], ...]
    at_risk: tuple[tuple[str, int], ...]
    oldest: tuple[OpenRequest, ...]
    ikm: IKMResult | None
    quality: QualityIndex | None

    @property
    def trend_direction(self) -> str | None:
        """Return ``up``, ``down`` or ``flat`` from the last two periods, or ``None``."""
        if len(self.trend) < 2:
            return None
        before, last = (float(c) for _, c in self.trend[-2:])
        return "up" if last > before else "down" if last < before else "flat"

    @property
    def at_risk_total(self) -> int:
        """Return how many requests are at risk, all levels together."""
        return sum(count for _, count in self.at_risk)


def build_summary(
    report: SLAReport,
    flow: RequestFlow,
    *,
    at_risk: AtRiskReport | None = None,
    ikm: IKMResult | None = None,
    quality: QualityIndex | None = None,
    oldest: int = 5,
) -> Summary:
    """Summarise a finished SLA report and its companions for a head of unit.

    Args:
        report: the SLA report.
        flow: the replay the report was built from.
        at_risk: the at-risk report at the same instant, if computed.
        ikm: the IKM of the same log, if any survey was recorded.
        quality: the service-quality index of the same log.
        oldest: how many of the oldest open requests to list.

    Returns:
        The summary.
    """
    clocks = report.total.clocks
    met = sum(c.met for c in clocks)
    breached = sum(c.breached for c in clocks)
    overdue = sum(c.overdue for c in clocks)
    trend = tuple((p.period, p.compliance) for p in report.periods if p.compliance is not None)[
        -TREND_PERIODS:
    ]
    # A request counts once, at its most urgent level.
    urgency: dict[str, int] = {}
    for item in () if at_risk is None else at_risk.items:
        level = RISK_LEVELS.index(item.risk)
        urgency[item.request] = min(level, urgency.get(item.request, level))
    levels = Counter(RISK_LEVELS[level] for level in urgency.values())
    when = report.as_of
    open_tracks = sorted(
        (t for t in flow.tracks.values() if not t.closed), key=lambda t: (t.received, t.id)
    )[:oldest]
    return Summary(
        as_of=when,
        received=report.total.received,
        closed=report.total.closed,
        open=report.total.open,
        met=met,
        breached=breached,
        overdue=overdue,
        compliance=percent(met, met + breached),
        compliance_with_overdue=percent(met, met + breached + overdue),
        trend=trend,
        at_risk=tuple((level, levels[level]) for level in RISK_LEVELS),
        oldest=tuple(
            OpenRequest(
                request=t.id,
                service=t.sop.id,
                state=t.state,
                received=t.received,
                age_s=0 if when is None else max(0, int((when - t.received).total_seconds())),
                unit=t.unit,
                officer=t.officer,
            )
            for t in open_tracks
        ),
        ikm=ikm,
        quality=quality,
    )
