"""``pelayanan report``: accountability figures replayed from the verified log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs
import click

from pelayanan.cli._common import (
    example,
    fail,
    file_option,
    force_option,
    format_option,
    output_option,
)
from pelayanan.cli._report_common import (
    EXIT_BAD_INPUT,
    ReplayOptions,
    at_option,
    check_report_output,
    clock_fold,
    parse_date,
    parse_instant,
    replay_folds,
    replay_options,
    verdicts_for,
    write_report,
)
from pelayanan.cli._report_ikm import ikm_command
from pelayanan.cli._report_output import (
    ReportOutput,
    read_directory,
    read_quality_config,
    read_rules,
    report_output_options,
    rules_option,
    write_report_tables,
)
from pelayanan.exceptions import ReportError
from pelayanan.reports import html
from pelayanan.reports.at_risk import build_at_risk
from pelayanan.reports.clocks import ClockOutcomes
from pelayanan.reports.flow import DIMENSIONS, PERIODS, RequestFlow
from pelayanan.reports.ikm import RULE_SET_NAMES, RULES_2017, IKMResult, RuleSet, compute_ikm
from pelayanan.reports.open311 import open311_requests, render_open311
from pelayanan.reports.quality import DEFAULT_QUALITY, build_quality_index
from pelayanan.reports.readable import (
    render_at_risk_text,
    render_quality_text,
    render_readable_text,
    render_summary_lines,
)
from pelayanan.reports.replay import LogBasis, ReportBasis
from pelayanan.reports.settled import SettledRequests
from pelayanan.reports.sla_report import SettledFigures, build_sla_report
from pelayanan.reports.summary import Summary, build_summary
from pelayanan.reports.survey import SurveyFold
from pelayanan.reports.tables import (
    SLA_TABLES,
    at_risk_tables,
    open311_tables,
    quality_tables,
    sla_tables,
)
from pelayanan.reports.wording import Wording

__all__ = ["head_of_unit_summary", "report_group"]


@click.group("report", epilog=example("pelayanan report sla --db pelayanan-demo.db"))
def report_group() -> None:
    """Accountability figures: SLA and flow, at-risk, IKM, quality index, Open311."""


report_group.add_command(ikm_command)


def _rules(
    options: ReplayOptions, flow: RequestFlow, clocks: ClockOutcomes, **extra: str
) -> dict[str, str]:
    rules = {
        f"sop:{sop_id}": f"{version} ({digest[:12]})"
        for sop_id, version, digest in sorted(flow.sop_versions)
    }
    # The calendars the SLA clocks ran on, when they are not the report's own.
    rules.update(
        {
            f"clock-calendar:{name}": fingerprint
            for name, fingerprint in clocks.calendars.items()
            if fingerprint != options.calendar.fingerprint
        }
    )
    rules.update(extra)
    return rules


@attrs.frozen
class _Replayed:
    """What `_replay_flow` gives: the basis, the folds' figures and the instant judged."""

    log: LogBasis
    flow: RequestFlow
    clocks: ClockOutcomes
    survey: SurveyFold
    at: dt.datetime | None
    settled: SettledFigures | None = None


def _replay_flow(
    options: ReplayOptions,
    flow: RequestFlow,
    at: dt.datetime | None,
    *,
    command: str,
    settings: Mapping[str, object],
    rules: RuleSet,
    settle: bool = False,
) -> _Replayed:
    """Verify and replay the log into *flow*, the survey answers and the SLA clocks.

    With *at*, entries after it are left out; running clocks are judged at *at*, else at
    the newest checkpoint's time.  The survey answers kept are those recorded under the
    IKM *rules*.  With *settle* and ``--state``, the state keeps finished requests as
    their SLA sums (`pelayanan.reports.settled`): only for a report made of those sums.

    Returns:
        The basis, the flow (the saved one when ``--state`` resumed), the clock verdicts,
        the survey answers, the instant judged and the settled requests' sums.
    """
    survey = SurveyFold(rules=rules.name)
    clock_log = clock_fold(options, until=at)
    folds: tuple[Any, ...] = (flow, survey, clock_log)
    if settle and options.state_file is not None:
        folds = (SettledRequests(flow, clock_log), *folds)
    log, folds = replay_folds(
        options, folds, command=command, settings={**settings, "at": at, "ikm": rules.name}
    )
    settled = folds[0].figures if isinstance(folds[0], SettledRequests) else None
    flow, survey, clock_log = folds[-3:]
    instant = at if at is not None else log.instant
    clocks = verdicts_for(options, clock_log, as_of=instant)
    return _Replayed(log, flow, clocks, survey, instant, settled)


def _survey_ikm(survey: SurveyFold, rules: RuleSet) -> IKMResult | None:
    """Return the IKM under *rules* of the recorded survey answers, or ``None`` if none.

    A malformed answer in the log ends the command with exit status 2.
    """
    if not survey.responses:
        return None
    try:
        return compute_ikm(survey.responses, rules=rules)
    except ReportError as exc:
        fail(str(exc), EXIT_BAD_INPUT)


@report_group.command(
    "sla", epilog=example("pelayanan report sla --db pelayanan-demo.db --by unit --format json")
)
@replay_options
@click.option("--by", type=click.Choice(DIMENSIONS), help="Group by this dimension.")
@click.option("--from", "date_from", metavar="DATE", help="First receipt date (YYYY-MM-DD).")
@click.option("--to", "date_to", metavar="DATE", help="Last receipt date (YYYY-MM-DD).")
@click.option(
    "--period", type=click.Choice(PERIODS), default="week", show_default=True,
    help="Length of the time-series periods.",
)  # fmt: skip
@at_option
@rules_option
@report_output_options(("text", "json", "csv", "html"), SLA_TABLES)
def sla_command(  # noqa: PLR0917 (click passes options by position)
    replay: tuple[Any, ...],
    by: str | None,
    date_from: str | None,
    date_to: str | None,
    period: str,
    at_text: str | None,
    rules_name: str,
    out: ReportOutput,
) -> None:
    """SLA compliance, stage times, backlog and breach attribution, from the verified log.

    Text and HTML open with a summary for the head of unit, in Indonesian (--lang en for
    English), officers by name with --directory; its IKM follows --rules.  Exit 0 with
    the report; exit 1 when the log does not verify (the reason on the first line of
    stderr).
    """
    if out.format == "html" and not html.available():
        fail("--format html needs matplotlib: pip install 'pelayanan[report]'", EXIT_BAD_INPUT)
    out.check_choice()
    options = ReplayOptions(*replay)
    options.also_reads(out.directory_file, rules_name if rules_name not in RULE_SET_NAMES else None)
    out.check_target(options)
    start, end = parse_date(date_from, "--from"), parse_date(date_to, "--to")
    at = parse_instant(at_text)
    if start and end and start > end:
        fail(f"--from {start} is after --to {end}", EXIT_BAD_INPUT)
    rules = read_rules(rules_name)
    readable = out.format in ("text", "html")
    directory = read_directory(out.directory_file) if readable else None
    flow = RequestFlow(
        options.sops, options.calendar, by=by, received_from=start, received_to=end,
        period=period, until=at, history=readable, calendars=options.clock_calendars,
    )  # fmt: skip
    # The folds differ with the flow's history (text and HTML keep it), so does a state.
    settings = {"by": by, "from": start, "to": end, "period": period, "history": readable}
    # JSON and CSV are made of the SLA sums alone: a state keeps finished requests as theirs.
    sla = _SLAReplay(options, flow, at, rules=rules, settings=settings, settle=not readable)
    if out.format == "json":
        text = sla.report.render_json()
    elif out.format == "csv" and out.table is not None:
        out.write_tables(sla_tables(sla.report), options)
        return
    elif out.format == "csv":
        text = sla.report.render_csv()
    else:
        summary = sla.summary()
        wording = Wording(out.lang, options.sops, directory)
        zone = options.calendar.zone
        if out.format == "html":
            text = html.render_html(
                sla.report, ikm=sla.ikm, quality=summary.quality, summary=summary,
                wording=wording, zone=zone,
            )  # fmt: skip
        else:
            text = render_readable_text(sla.report, summary, wording, zone=zone)
    out.write(text, options)


class _SLAReplay:
    """The SLA report of one verified replay, and what its summary needs."""

    def __init__(
        self,
        options: ReplayOptions,
        flow: RequestFlow,
        at: dt.datetime | None,
        *,
        rules: RuleSet = RULES_2017,
        settings: Mapping[str, object] | None = None,
        settle: bool = False,
    ) -> None:
        replayed = _replay_flow(
            options, flow, at, command="sla", settings=settings or {}, rules=rules, settle=settle
        )
        log, self.flow, self.clocks = replayed.log, replayed.flow, replayed.clocks
        self.survey, self.at = replayed.survey, replayed.at
        self.ikm = _survey_ikm(self.survey, rules)
        extra = {"ikm": rules.name} if self.ikm is not None else {}
        versions = _rules(options, self.flow, self.clocks, **extra)
        self.basis = ReportBasis.for_log(log, options.calendar, rules=versions, at=self.at)
        self.report = build_sla_report(
            self.flow, self.basis, verdicts=self.clocks.verdicts,
            breaches=self.clocks.breaches, verdict_source=self.clocks.source, as_of=self.at,
            settled=replayed.settled,
        )  # fmt: skip

    def summary(self) -> Summary:
        """Return the head of unit's summary (the flow must keep history, for at-risk)."""
        clocks = self.clocks
        quality = build_quality_index(
            DEFAULT_QUALITY, self.basis, flow=self.flow, verdicts=clocks.verdicts,
            ikm=self.ikm, survey_seqs=self.survey.seqs,
        )  # fmt: skip
        at_risk = None
        if self.flow.last_time is not None or self.at is not None:
            at_risk = build_at_risk(
                self.flow, self.basis, verdicts=clocks.verdicts, at=self.at,
                verdict_source=clocks.source,
            )  # fmt: skip
        return build_summary(self.report, self.flow, at_risk=at_risk, ikm=self.ikm, quality=quality)


def head_of_unit_summary(db: str, *, lang: str = "id") -> list[str]:
    """Return the summary ``pelayanan report sla --db DB`` opens with, as text lines.

    The demo prints it, so what it shows is exactly what the report states.
    """
    options = ReplayOptions(db, (), None, None, None, (), None)
    flow = RequestFlow(options.sops, options.calendar, history=True)
    sla = _SLAReplay(options, flow, None)
    return render_summary_lines(sla.summary(), Wording(lang, options.sops))


@report_group.command("at-risk", epilog=example("pelayanan report at-risk --db pelayanan-demo.db"))
@replay_options
@at_option
@click.option("--min-samples", default=3, show_default=True, type=click.IntRange(1),
              help="Past requests needed to judge a state.")  # fmt: skip
@report_output_options(("text", "json", "csv"), ("at_risk", "without_history", "basis"))
def at_risk_command(
    replay: tuple[Any, ...], at_text: str | None, min_samples: int, out: ReportOutput
) -> None:
    """Open requests likely to breach their SLA clocks, with the reason.

    The text is in Indonesian (--lang en for English), officers by name with
    --directory, the basis in a footer.  Exit 0 with the list; exit 1 when the log does
    not verify.
    """
    out.check_choice()
    directory = read_directory(out.directory_file) if out.format == "text" else None
    options = ReplayOptions(*replay)
    options.also_reads(out.directory_file)
    out.check_target(options)
    at = parse_instant(at_text)
    flow = RequestFlow(
        options.sops,
        options.calendar,
        history=True,
        until=at,
        calendars=options.clock_calendars,
    )
    log, (flow, clock_log) = replay_folds(
        options, (flow, clock_fold(options, until=at)), command="at-risk", settings={"at": at}
    )
    instant = at if at is not None else log.instant
    clocks = verdicts_for(options, clock_log, as_of=instant)
    rules = _rules(options, flow, clocks)
    basis = ReportBasis.for_log(log, options.calendar, rules=rules, at=instant)
    try:
        report = build_at_risk(
            flow, basis, verdicts=clocks.verdicts, at=instant, min_samples=min_samples,
            verdict_source=clocks.source,
        )  # fmt: skip
    except ReportError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    wording = Wording(out.lang, options.sops, directory)
    out.emit(
        options,
        tables=lambda: at_risk_tables(report),
        json=report.render_json,
        text=lambda: render_at_risk_text(report, wording, zone=options.calendar.zone),
    )


@report_group.command(
    "open311", epilog=example("pelayanan report open311 --db pelayanan-demo.db > requests.json")
)
@replay_options
@click.option(
    "--clock", "clock_name", metavar="NAME",
    help="expected_datetime is this SLA clock's deadline (default: the earliest running one).",
)  # fmt: skip
@at_option
@format_option("json", "csv", help_text="Output format: the GeoReport v2 JSON array, or CSV.")
@output_option()
@force_option
def open311_command(  # noqa: PLR0917 (click passes options by position)
    replay: tuple[Any, ...],
    clock_name: str | None,
    at_text: str | None,
    output_format: str,
    output: str | None,
    force: bool,
) -> None:
    """The requests as an Open311 GeoReport v2 JSON array, with no personal data.

    expected_datetime is the earliest deadline of the request's running SLA clocks (or
    of the clock named by --clock), recomputed from the log at --at (default: the newest
    checkpoint's time).  Exit 0 with the feed; exit 1 when the log does not verify.
    """
    options = ReplayOptions(*replay)
    check_report_output(output, options, force=force)
    at = parse_instant(at_text)
    flow = RequestFlow(options.sops, options.calendar, until=at, calendars=options.clock_calendars)
    log, (flow, clock_log) = replay_folds(
        options, (flow, clock_fold(options, until=at)), command="open311", settings={"at": at}
    )
    clocks = verdicts_for(options, clock_log, as_of=at if at is not None else log.instant)
    feed = open311_requests(flow, verdicts=clocks.verdicts, clock=clock_name)
    if output_format == "csv":
        write_report_tables(open311_tables(feed), None, output, options, force=force)
        return
    write_report(render_open311(feed), output, options, force=force)


@report_group.command(
    "quality", epilog=example("pelayanan report quality --db pelayanan-demo.db --format json")
)
@replay_options
@file_option(
    "--config", "config_file",
    help_text='A YAML, TOML or JSON file: {"version": ..., "weights": {component: "0.5", ...}}.',
)  # fmt: skip
@at_option
@rules_option
@report_output_options(("text", "json", "csv"), ("components", "index", "basis"), directory=False)
def quality_command(
    replay: tuple[Any, ...],
    config_file: str | None,
    at_text: str | None,
    rules_name: str,
    out: ReportOutput,
) -> None:
    """The service-quality index: each component, its weight and its entries.

    The text is in Indonesian (--lang en for English), the entries and basis in a footer;
    the IKM component follows --rules.  Exit 0 with the index; 1 when the log does not
    verify; 2 on a bad configuration or rules file.
    """
    out.check_choice()
    rules = read_rules(rules_name)
    config = read_quality_config(config_file)
    options = ReplayOptions(*replay)
    options.also_reads(config_file, rules_name if rules_name not in RULE_SET_NAMES else None)
    out.check_target(options)
    at = parse_instant(at_text)
    flow = RequestFlow(options.sops, options.calendar, until=at, calendars=options.clock_calendars)
    replayed = _replay_flow(options, flow, at, command="quality", settings={}, rules=rules)
    flow, clocks, survey = replayed.flow, replayed.clocks, replayed.survey
    ikm = _survey_ikm(survey, rules)
    versions = _rules(options, flow, clocks, quality=config.version, ikm=rules.name)
    basis = ReportBasis.for_log(replayed.log, options.calendar, rules=versions, at=replayed.at)
    index = build_quality_index(
        config, basis, flow=flow, verdicts=clocks.verdicts, ikm=ikm, survey_seqs=survey.seqs
    )
    wording = Wording(out.lang, options.sops)
    out.emit(
        options,
        tables=lambda: quality_tables(index),
        json=index.render_json,
        text=lambda: render_quality_text(index, wording, zone=options.calendar.zone),
    )
