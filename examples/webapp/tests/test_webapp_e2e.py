"""The whole story through a real browser: citizen, officers, supervisor, auditor.

Runs in ``nox -s webapp_e2e`` (and CI), never in the default ``nox -s tests``.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from pelayanan_webapp.launch import START, Server

PASSWORD = "rahasia-demo"
SHOTS = os.environ.get("WEBAPP_SCREENSHOTS")


def shot(page: Any, name: str) -> None:
    """Save a screenshot of *page* when WEBAPP_SCREENSHOTS names a folder."""
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def sign_in(browser: Any, server: Server, username: str) -> Any:
    """Return a page in a fresh browser context, signed in as *username*."""
    page = browser.new_context(viewport={"width": 1200, "height": 800}).new_page()
    page.goto(server.url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url("**/inbox")
    return page


def act(page: Any, request_id: str, action: str, **fields: str) -> None:
    """Fill and send the action form *action* of *request_id* in the inbox."""
    form = page.locator(f"#row-{request_id} form[data-action='{action}']")
    for name, value in fields.items():
        form.locator(f"input[name='{name}']").fill(value)
    form.locator("button").click()
    page.wait_for_load_state()


class TestStory:
    """A complaint from submission to the auditor's verified export."""

    def test_whole_story(self, server: Server, browser: Any, tmp_path: Path) -> None:
        """Submit, route by unit, act, refuse, breach and escalate, check, export, verify."""
        # -- a citizen files a complaint with personal data and gets a receipt --
        citizen = browser.new_context(viewport={"width": 1200, "height": 800})
        page = citizen.new_page()
        page.goto(server.url + "/")
        shot(page, "home")
        page.click("text=Sampaikan pengaduan")
        page.fill("#subject", "Lampu jalan mati di Jl. Asia Afrika")
        page.select_option("#category", "infrastruktur")
        page.fill("#region", "32.73.01")
        page.fill("#nama", "Siti Aminah")
        page.fill("#nik", "3273010101900001")
        page.fill("#telepon", "081234567890")
        page.fill("#alamat", "Jl. Asia Afrika 8")
        page.fill("#uraian", "Tiga lampu mati sejak seminggu.")
        shot(page, "complaint-form")
        page.click("#send")
        request_id = page.inner_text("#tracking").strip()
        assert request_id.startswith("ADU-")
        shot(page, "submitted")
        with page.expect_download() as download:
            page.click("#receipt-link")
        receipt = tmp_path / "receipt.json"
        download.value.save_as(receipt)
        assert json.loads(receipt.read_text())["seq"] >= 0

        # -- the public status page: Open311 status, no personal data --
        page.goto(f"{server.url}/status/{request_id}")
        assert page.inner_text("#status") == "open"
        assert "Siti" not in page.content()
        assert "3273010101900001" not in page.content()

        # -- an officer of another unit does not see it --
        other = sign_in(browser, server, "lh.verifikator")
        assert request_id not in other.content()
        # ... and a hand-made post is refused by the desk's unit check (same role, other
        # unit), and recorded.
        token = other.input_value("input[name='csrf']")
        forged = other.request.post(f"{server.url}/inbox/{request_id}/verify", form={"csrf": token})
        assert forged.status == 403
        assert "held by unit &#39;dinas-pu&#39;" in forged.text()

        # -- the right unit's verifier sees it and verifies --
        verifier = sign_in(browser, server, "pu.verifikator")
        row = verifier.locator(f"#row-{request_id}")
        assert row.locator("form[data-action='verify']").count() == 1
        assert row.locator("form[data-action='dispatch']").count() == 0  # not the verifier's
        shot(verifier, "inbox")
        server.set_time(START + dt.timedelta(hours=1))
        act(verifier, request_id, "verify")
        assert "verify -> verified" in verifier.inner_text("#done")

        # -- the head of unit forgets the unit: refused, in the library's words --
        head = sign_in(browser, server, "pu.kepala")
        act(head, request_id, "dispatch")
        error = head.inner_text("#error")
        assert "assigned_unit" in error
        shot(head, "refused")
        act(head, request_id, "dispatch", assigned_unit="dinas-pu")
        assert "dispatch -> dispatched" in head.inner_text("#done")

        # -- time passes: the follow-up clock (5 working days) breaches and escalates --
        server.set_time(START + dt.timedelta(days=14))
        events = self.wait_for_events(head, server, request_id, {"breach", "escalation"})
        assert {"breach", "escalation"} <= events
        head.goto(server.url + "/dashboard")
        assert request_id in head.inner_text("#at-risk")
        assert "overdue" in head.inner_text("#at-risk")
        assert head.inner_text("#sla-report").strip()
        shot(head, "dashboard")

        # -- the citizen checks the receipt on the status page --
        page.goto(f"{server.url}/status/{request_id}")
        page.set_input_files("#receipt", str(receipt))
        page.click("#check")
        result = page.inner_text("#receipt-result")
        assert "Tanda terima sah" in result
        assert "included in the log" in result
        shot(page, "status")
        citizen.close()

        # -- the auditor downloads the export and the key; pelayanan audit verify agrees --
        auditor = sign_in(browser, server, "auditor")
        auditor.goto(server.url + "/audit")
        shot(auditor, "audit")
        export = self.download(auditor, "#export", tmp_path / "audit-export.jsonl")
        key = self.download(auditor, "#public-key", tmp_path / "ledger-public.pem")
        checkpoint = self.download(auditor, "#checkpoint", tmp_path / "checkpoint.txt")
        assert checkpoint.read_text().startswith("pelayanan/pemkot-contoh\n")
        verified = subprocess.run(
            [sys.executable, "-m", "pelayanan", "audit", "verify", str(export),
             "--trusted-key", str(key)],
            capture_output=True, text=True, env=server.env, check=False,
        )  # fmt: skip
        assert verified.returncode == 0, verified.stdout + verified.stderr

        # -- both workers ticked, yet every SLA event is in the log exactly once --
        fired = collections.Counter(
            (e["request"], e["clock"], e["cycle"], e["key"])
            for e in map(json.loads, export.read_text().splitlines())
            if e.get("kind") == "sla"
        )
        assert fired
        assert max(fired.values()) == 1
        ticking = {
            json.loads(line)["pid"]
            for line in server.log_file.read_text().splitlines()
            if line.startswith("{") and json.loads(line).get("msg") == "worker started"
        }
        assert len(ticking) == 2

    @staticmethod
    def download(page: Any, selector: str, target: Path) -> Path:
        """Click the download link *selector* and save the file as *target*."""
        with page.expect_download() as download:
            page.click(selector)
        download.value.save_as(target)
        return target

    @staticmethod
    def wait_for_events(page: Any, server: Server, request_id: str, wanted: set[str]) -> set[str]:
        """Reload the dashboard until *wanted* SLA events of the request show (20 s)."""
        seen: set[str] = set()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not wanted <= seen:
            page.goto(server.url + "/dashboard")
            rows = page.locator("#sla-events tr").all_inner_texts()
            seen = {cell for row in rows if request_id in row for cell in row.split("\t")}
            time.sleep(0.5)
        return seen


class TestPages:
    """Smaller behaviours of the pages."""

    def test_english_and_csrf(self, server: Server, browser: Any) -> None:
        """Switch to English; a form posted without the session's token is refused."""
        page = browser.new_context().new_page()
        page.goto(server.url + "/lang/en?next=/pengaduan")
        assert "File a complaint" in page.content()
        request = urllib.request.Request(
            server.url + "/pengaduan", data=b"subject=x&category=lainnya", method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403

    def test_two_complaints_in_one_session(self, server: Server, browser: Any) -> None:
        """Each rendered form is one complaint: a second form gives a second number."""
        page = browser.new_context().new_page()
        numbers = []
        for subject in ("Pohon tumbang", "Pohon tumbang lagi"):
            page.goto(server.url + "/pengaduan")
            page.fill("#subject", subject)
            page.click("#send")
            numbers.append(page.inner_text("#tracking").strip())
        assert numbers[0] != numbers[1]
