"""Make the screenshot of the HTML report that docs/reports.md shows (docs/img/report-html.png).

Runs the demo into a temporary folder, renders ``pelayanan report sla --format html`` with
the demo's officer directory, and photographs the top of the page with headless Chromium
through Playwright.  Needs the ``report`` extra, ``playwright`` and a Chromium (default
``/usr/bin/chromium``; ``CHROMIUM=PATH`` for another).  Run from the repository root:

    python examples/tools/report_screenshot.py [OUTPUT.png]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "docs" / "img" / "report-html.png"


def main(output: Path) -> int:
    """Render the demo's HTML report and save a screenshot of its first screens."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional tool

    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "demo.db"
        page_file = Path(folder) / "report.html"
        command = [sys.executable, "-m", "pelayanan"]
        subprocess.run([*command, "demo", "--db", str(db)], check=True, capture_output=True)
        subprocess.run(
            [*command, "report", "sla", "--db", str(db), "--format", "html", "-o",
             str(page_file), "--directory", f"{db}.directory.yaml"],
            check=True,
        )  # fmt: skip
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1100, "height": 1500})
            page.goto(page_file.as_uri())
            page.screenshot(path=str(output))
            browser.close()
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT))
