"""The self-contained HTML report: offline, reproducible, and its charts render in Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from pelayanan.cli._demo import run_demo
from pelayanan.cli._main import cli

pytest.importorskip("matplotlib", reason="the HTML report needs the 'report' extra")

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML report of a demo database."""
    folder = tmp_path_factory.mktemp("html")
    db = folder / "demo.db"
    run_demo(db, 1)
    out = folder / "report.html"
    result = CliRunner().invoke(
        cli, ["report", "sla", "--db", str(db), "--format", "html", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    again = folder / "again.html"
    CliRunner().invoke(
        cli, ["report", "sla", "--db", str(db), "--format", "html", "-o", str(again)]
    )
    assert out.read_bytes() == again.read_bytes()
    return out


class TestHTML:
    def test_self_contained(self, report_html: Path) -> None:
        """No script at all, and nothing loaded from the network."""
        text = report_html.read_text(encoding="utf-8")
        assert "<script" not in text.lower()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
        assert "@import" not in text
        assert text.count("<svg") == 4  # compliance, stages, backlog, IKM

    def test_real_sla_data(self, report_html: Path) -> None:
        """Compliance over time is drawn from the recomputed clock verdicts, with attribution."""
        text = report_html.read_text(encoding="utf-8")
        assert "kepatuhan SLA %" in text  # the compliance line (only drawn when judged)
        assert "<h2>Kepatuhan per jam layanan</h2>" in text
        assert "<h2>Keterlambatan per unit dan petugas</h2>" in text
        assert "recomputed from the verified log by pelayanan.sla" in text

    def test_summary_first_basis_last(self, report_html: Path) -> None:
        """The page opens with the summary and closes with the technical basis."""
        text = report_html.read_text(encoding="utf-8")
        assert text.index("<h2>Ringkasan</h2>") < text.index("<h2>Grafik</h2>")
        footer = text.index("<footer>")
        assert text.index("root ") > footer
        assert "Permohonan terbuka tertua" in text
        assert "Verifikasi oleh admin (3 hari kerja)" in text  # the SOP's clock label
        assert ">follow_up<" not in text  # no clock identifiers in the tables

    def test_charts_render_in_chromium(self, report_html: Path, tmp_path: Path) -> None:
        """Headless Chromium paints the charts (their colour fills a visible area)."""
        if CHROMIUM is None:
            if os.environ.get("CI"):
                pytest.fail("chromium is required under CI (.ci/run installs it)")
            pytest.skip("chromium is not installed (apt-get install chromium)")
        from matplotlib.image import imread

        from pelayanan.reports.html import CHART_COLOR

        shot = tmp_path / "shot.png"
        subprocess.run(
            [
                CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                f"--screenshot={shot}", "--window-size=1100,2600", report_html.as_uri(),
            ],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        pixels = imread(str(shot))[:, :, :3]
        target = [int(CHART_COLOR[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        close = (abs(pixels - target) < 0.03).all(axis=2)
        # Four charts of bars in the chart colour: many thousands of pixels.
        assert close.sum() > 20_000
        rows = close.any(axis=1).nonzero()[0]
        assert rows.max() - rows.min() > 1000  # spread down the page, not one blob
