"""The head of unit's forms: wording (pelayanan.reports.wording), the summary
(pelayanan.reports.summary), the readable text (pelayanan.reports.readable) and the charts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from pelayanan.cli._demo_files import DEMO_DIRECTORY
from pelayanan.cli._main import cli
from pelayanan.cli._report import _SLAReplay, head_of_unit_summary
from pelayanan.cli._report_common import ReplayOptions
from pelayanan.reports.flow import RequestFlow
from pelayanan.reports.readable import render_readable_text
from pelayanan.reports.wording import Wording, workflow_order
from pelayanan.sop import load_sop

ROOT = Path(__file__).resolve().parents[2]
PENGADUAN = load_sop(ROOT / "examples" / "sop" / "pengaduan.yaml")
WIB = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture(scope="module")
def sla(demo_db: Path) -> _SLAReplay:
    """The SLA replay of the demo database, as ``report sla`` makes it."""
    options = ReplayOptions(str(demo_db), (), None, None, None, (), None)
    flow = RequestFlow(options.sops, options.calendar, history=True)
    return _SLAReplay(options, flow, None)


def run(*args: str) -> tuple[int, str, str]:
    """Run the command line in-process; return the exit code, stdout and stderr."""
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


class TestWording:
    """Language, labels, durations and sentences."""

    @pytest.mark.parametrize(
        ("seconds", "lang", "said"),
        [
            (2 * 86_400 + 3 * 3_600, "id", "2 hari 3 jam"),
            (2 * 86_400 + 3 * 3_600, "en", "2 days 3 hours"),
            (3 * 3_600 + 25 * 60 + 59, "id", "3 jam 25 menit"),
            (15 * 86_400 + 3_600, "id", "2 minggu 1 hari"),
            (59, "id", "kurang dari 1 menit"),
            (0, "en", "under a minute"),
            (-3_600, "en", "-1 hour"),
        ],
    )
    def test_durations(self, seconds: int, lang: str, said: str) -> None:
        """Durations read as people say them, to the minute, in at most two units."""
        assert Wording(lang).duration(seconds) == said

    def test_working_time_in_hours(self) -> None:
        """Working time is said in hours and minutes: its days are not 24 hours long."""
        assert Wording("id").duration(25 * 3_600 + 37 * 60, working=True) == "25 jam 37 menit"
        assert Wording("en").duration(90 * 3_600, working=True) == "90 hours"

    @given(st.integers(min_value=60, max_value=10**9))
    def test_duration_at_most_two_units(self, seconds: int) -> None:
        """However long, a duration is said in one or two units."""
        assert len(Wording("en").duration(seconds).split()) in (2, 4)

    def test_percent(self) -> None:
        """Indonesian writes a decimal comma."""
        assert Wording("id").percent("96.15") == "96,15%"
        assert Wording("en").percent("96.15") == "96.15%"
        assert Wording().percent(None) == "-"

    def test_labels_from_the_sop(self) -> None:
        """States, clocks and actions read with the SOP's labels in the chosen language."""
        id_, en = Wording("id", [PENGADUAN]), Wording("en", [PENGADUAN])
        assert (id_.state("dispatched"), en.state("dispatched")) == ("Didisposisikan", "Dispatched")
        assert id_.clock("verification") == "Verifikasi oleh admin (3 hari kerja)"
        assert en.clock("verification") == "Verification by the admin (3 working days)"
        assert id_.action("verify") == "Verifikasi laporan"
        assert id_.clock("unknown") == "unknown"

    @pytest.mark.parametrize(
        ("reason", "sentence"),
        [
            ("role", "The officer does not hold a role allowed to take this action."),
            ("IncompleteRequestError", "Required data or documents were missing."),
            (
                "separation_of_duties:verify",
                ("Separation of duties: the same officer already took the action "
                "\u201cVerify the report\u201d on this request."),
            ),
            (
                "separation_of_duties:subject:nik",
                "The officer may not handle a request about themself.",
            ),
            (
                "delegation:expired",
                "No delegation (Plt/Plh) covers this action, or it is not valid at that time.",
            ),
            ("custom_rule", "Refused by the rule custom_rule."),
        ],
    )  # fmt: skip
    def test_refusals_are_sentences(self, reason: str, sentence: str) -> None:
        """Refusal reasons read as sentences, never as class names."""
        assert Wording("en", [PENGADUAN]).refusal(reason) == sentence

    def test_instant(self) -> None:
        """Instants are written in the calendar's zone, with its name."""
        instant = dt.datetime(2026, 7, 25, 9, 30, tzinfo=dt.UTC)
        zone = ZoneInfo("Asia/Jakarta")
        assert Wording("id").instant(instant, zone) == "25 Juli 2026 16.30 WIB"
        assert Wording("en").instant(instant, zone) == "25 July 2026 16:30 WIB"

    def test_unknown_language(self) -> None:
        """Only Indonesian and English are spoken."""
        with pytest.raises(ValueError, match="lang"):
            Wording("fr")


class TestWorkflowOrder:
    """Stages in the order a request meets them."""

    def test_pengaduan(self) -> None:
        """The complaint SOP reads received, verified, dispatched, followed up, closed."""
        order = workflow_order([PENGADUAN])
        ranked = sorted(order, key=order.__getitem__)
        assert ranked[:3] == ["received", "verified", "rejected"]  # breadth first, in order
        assert ranked.index("dispatched") < ranked.index("followed_up") < ranked.index("closed")

    def test_report_stages_follow_it(self, sla: _SLAReplay) -> None:
        """The report lists its stages in workflow order, not alphabetically."""
        stages = [state for state, _ in sla.report.total.stages]
        order = workflow_order([PENGADUAN])
        assert stages == sorted(stages, key=order.__getitem__)
        assert stages != sorted(stages)


class TestSummary:
    """The summary agrees with the report it heads."""

    def test_figures_are_the_reports(self, sla: _SLAReplay) -> None:
        """Counts and compliance are those of the report's tables."""
        summary = sla.summary()
        total = sla.report.total
        assert (summary.received, summary.closed, summary.open) == (
            total.received,
            total.closed,
            total.open,
        )
        assert summary.met == sum(c.met for c in total.clocks)
        assert summary.overdue == sum(c.overdue for c in total.clocks)
        assert summary.ikm is not None
        assert summary.quality is not None

    def test_oldest_are_open_and_oldest(self, sla: _SLAReplay) -> None:
        """The oldest open requests are open, oldest first, none older left out."""
        summary = sla.summary()
        ages = [o.age_s for o in summary.oldest]
        assert ages == sorted(ages, reverse=True)
        open_ages = sorted(
            (
                int((sla.report.as_of - t.received).total_seconds())
                for t in sla.flow.tracks.values()
                if not t.closed and sla.report.as_of is not None
            ),
            reverse=True,
        )
        assert ages == open_ages[: len(ages)]

    def test_at_risk_counts_requests_once(self, sla: _SLAReplay) -> None:
        """Each request counts once, at its most urgent level."""
        summary = sla.summary()
        assert summary.at_risk_total <= summary.open

    def test_demo_prints_the_reports_summary(self, demo_db: Path) -> None:
        """The demo's summary lines are the ones `report sla` opens with."""
        _, text, _ = run("report", "sla", "--db", str(demo_db))
        for line in head_of_unit_summary(str(demo_db)):
            assert line in text


class TestReadableText:
    """`report sla` text: summary, details, footer."""

    def test_english_with_names(self, demo_db: Path) -> None:
        """--lang en and --directory: English phrases and officers by name."""
        directory = f"{demo_db}.directory.yaml"
        code, text, err = run(
            "report", "sla", "--db", str(demo_db), "--lang", "en", "--directory", directory
        )
        assert code == 0, err
        assert text.startswith("Service Report: pemkot-contoh\nAs of ")
        assert "\nSUMMARY\n" in text
        assert "counting overdue ones as breached" in text
        names = [name for name, _ in DEMO_DIRECTORY.values()]
        assert any(name in text for name in names)
        assert "IncompleteRequestError" not in text.split("\nTECHNICAL BASIS\n")[0]

    def test_bad_directory(self, demo_db: Path, tmp_path: Path) -> None:
        """A bad directory file exits 2 with FILE:LINE problems, before the replay."""
        path = tmp_path / "pegawai.yaml"
        path.write_text("officers:\n  abc: {name: A}\n", encoding="utf-8")
        code, out, err = run("report", "sla", "--db", str(demo_db), "--directory", str(path))
        assert (code, out) == (2, "")
        assert err.startswith(f"error: {path}:2: officers.abc: an officer is keyed by")

    def test_renderer_directly(self, sla: _SLAReplay) -> None:
        """The renderer puts the summary first and the technical basis last."""
        text = render_readable_text(sla.report, sla.summary(), Wording("id", [PENGADUAN]), zone=WIB)
        assert text.index("RINGKASAN") < text.index("KEPATUHAN PER JAM LAYANAN")
        assert text.index("DASAR TEKNIS") > text.index("PER PERIODE")
        assert "root " in text.split("DASAR TEKNIS")[1]


class TestCharts:
    """No legend covers a plot."""

    def test_legends_outside_the_axes(self, sla: _SLAReplay) -> None:
        """Every figure legend lies outside every axes' area (and its tick labels)."""
        pytest.importorskip("matplotlib", reason="the charts need the 'report' extra")
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        from pelayanan.reports.html import chart_figures

        figures = chart_figures(sla.report, ikm=sla.ikm, wording=Wording("id", [PENGADUAN]))
        with_legend = 0
        for name, figure in figures.items():
            canvas = FigureCanvasAgg(figure)
            canvas.draw()
            renderer = canvas.get_renderer()
            for legend in figure.legends:
                with_legend += 1
                box = legend.get_window_extent(renderer)
                for axes in figure.axes:
                    assert not box.overlaps(axes.get_tightbbox(renderer)), name
        assert with_legend >= 2  # the period and stage charts have one each
