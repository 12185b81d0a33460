"""`report at-risk` and `report quality` as a head of unit reads them, and `--rules` for
the IKM shown by `report sla` and `report quality`."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pelayanan.audit.entry import format_time
from pelayanan.audit.keys import load_private_key
from pelayanan.cli._main import cli
from pelayanan.store import SQLiteStore

END = "2026-07-24T16:30:00+07:00"  # the demo's last tick: Friday of week 3, 16:30
RULES = """\
name: uji-2026
title: SKM uji
unsur:
  - {key: kecepatan, name: Kecepatan, weight: "0.5"}
  - {key: keramahan, name: Keramahan, weight: "0.3"}
  - {key: kebersihan, name: Kebersihan, weight: "0.2"}
"""
CUSTOM_ANSWERS = (
    {"kecepatan": 4, "keramahan": 3, "kebersihan": 2},
    {"kecepatan": 3, "keramahan": 4, "kebersihan": 4},
    {"kecepatan": 2, "keramahan": 4, "kebersihan": 3},
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def surveyed(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the demo with three survey responses under the rules file, and that file."""
    folder = tmp_path_factory.mktemp("surveyed")
    db = folder / "demo.db"
    shutil.copy(demo_db, db)
    shutil.copytree(Path(f"{demo_db}.keys"), Path(f"{db}.keys"))
    rules = folder / "uji.yaml"
    rules.write_text(RULES)
    key = load_private_key(Path(f"{db}.keys") / "ledger-private.pem")
    store = SQLiteStore(db)
    try:
        for n, answers in enumerate(CUSTOM_ANSWERS):
            when = dt.datetime(2026, 7, 27, 2, n, tzinfo=dt.UTC)
            entry = {
                "kind": "survey", "request": f"ADU-2026-0000{n + 1}", "actor": "198703122010012001",
                "rules": "uji-2026", "answers": answers, "time": format_time(when),
            }  # fmt: skip
            store.append("pemkot-contoh", entry, time=when, sign=lambda cp: cp.sign(key))
    finally:
        store.close()
    return db, rules


def _body(text: str, footer: str) -> str:
    """Return the text above the technical footer, checking that the footer closes it."""
    body, found, _ = text.partition(f"\n{footer}\n")
    assert found, text
    return body


class TestAtRiskText:
    def test_indonesian_by_default_with_labels(self, demo_db: Path) -> None:
        """The instant first, risk levels, SOP labels and durations in words; basis last."""
        code, out, _ = run("report", "at-risk", "--db", str(demo_db), "--at", END)
        assert code == 0
        lines = out.splitlines()
        assert lines[0] == "Permohonan berisiko terlambat: pemkot-contoh"
        assert lines[1] == "Keadaan per 24 Juli 2026 16.30 WIB"
        body = _body(out, "DASAR TEKNIS")
        assert "KEMUNGKINAN BESAR TERLAMBAT" in body
        assert "Didisposisikan" in body
        assert " jam " in body
        assert "menit" in body
        for technical in ("follow_up", "dispatched", "root", "sha256:", "9h37m"):
            assert technical not in body
        assert "root " in out.partition("DASAR TEKNIS")[2]

    def test_english_and_directory(self, demo_db: Path) -> None:
        """--lang en speaks English; --directory names the units (else their ids)."""
        directory = f"{demo_db}.directory.yaml"
        args = ("report", "at-risk", "--db", str(demo_db), "--at", END, "--lang", "en")
        _, plain, _ = run(*args)
        code, named, _ = run(*args, "--directory", directory)
        assert code == 0
        assert named.splitlines()[1] == "As of 24 July 2026 16:30 WIB"
        assert "LIKELY TO BREACH" in named
        assert "TECHNICAL BASIS" in named
        assert "/ dinas-lh /" not in named
        assert "Dinas Lingkungan Hidup" in named
        assert "Dinas Lingkungan Hidup" not in plain
        assert "dinas-lh" in plain

    def test_same_items_as_json(self, demo_db: Path) -> None:
        """Every item of the JSON form is in the text, once per clock."""
        _, out, _ = run("report", "at-risk", "--db", str(demo_db), "--at", END, "--format", "json")
        items = json.loads(out)["items"]
        _, text, _ = run("report", "at-risk", "--db", str(demo_db), "--at", END)
        listed = [line.split(" \u00b7 ")[0].strip() for line in text.splitlines()
                  if line.startswith("  ADU-")]  # fmt: skip
        assert listed == [i["request"] for i in sorted(items, key=_risk_rank)]


def _risk_rank(item: dict[str, object]) -> int:
    return ("overdue", "likely", "possible", "stalled").index(str(item["risk"]))


class TestQualityText:
    def test_indonesian_by_default(self, demo_db: Path) -> None:
        """The index with a decimal comma, components by label, entries in the footer."""
        _, data, _ = run("report", "quality", "--db", str(demo_db), "--format", "json")
        index = json.loads(data)["index"]
        code, out, _ = run("report", "quality", "--db", str(demo_db))
        assert code == 0
        lines = out.splitlines()
        assert lines[0] == "Indeks kualitas layanan: pemkot-contoh"
        assert lines[1].startswith("Keadaan per 25 Juli 2026")
        assert lines[2] == f"indeks: {index.replace('.', ',')}"
        body = _body(out, "DASAR TEKNIS")
        assert "Kepatuhan SLA: bobot 0,5" in body
        assert "sla_compliance" not in body
        assert "entri" not in body
        assert "entri sla_compliance: 0, 1," in out

    def test_english_and_missing_component(self, demo_db: Path) -> None:
        """--lang en; a component without data is named by its label, here and in sla."""
        code, out, _ = run("report", "quality", "--db", str(demo_db), "--lang", "en",
                           "--rules", "2004")  # fmt: skip
        assert code == 0
        assert "index: not computed (no data: IKM)" in out
        assert "rules: ikm 2004" in out
        _, out, _ = run("report", "sla", "--db", str(demo_db), "--rules", "2004")
        assert "belum ada survei" in out
        assert "belum dapat dihitung (tidak ada data: IKM)" in out


class TestRulesOption:
    def test_custom_rules_agree_across_commands(self, surveyed: tuple[Path, Path]) -> None:
        """The IKM under a rules file is the same in report ikm, quality and sla."""
        db, rules = surveyed
        _, out, _ = run("report", "ikm", "--db", str(db), "--rules", str(rules), "--format", "json")
        ikm = json.loads(out)
        assert (ikm["respondents"], ikm["basis"]["rules"]["ikm"]) == (3, "uji-2026")
        args = ("--db", str(db), "--rules", str(rules))
        code, out, _ = run("report", "quality", *args, "--format", "json")
        assert code == 0
        quality = json.loads(out)
        component = next(c for c in quality["components"] if c["name"] == "ikm")
        assert component["value_percent"] == ikm["ikm"]
        assert component["entries"] == [217, 218, 219]  # the three appended responses
        assert quality["basis"]["rules"]["ikm"] == "uji-2026"
        _, default, _ = run("report", "quality", "--db", str(db), "--format", "json")
        assert json.loads(default)["index"] != quality["index"]
        code, text, _ = run("report", "sla", *args, "--lang", "en")
        assert code == 0
        assert f"{ikm['ikm']}, grade {ikm['mutu']} ({ikm['kinerja']}), from 3 respondents" in text
        assert "ikm uji-2026" in text.partition("TECHNICAL BASIS")[2]
        _, text, _ = run("report", "quality", *args)
        assert f"nilai IKM {ikm['ikm'].replace('.', ',')} dari 100" in text

    @pytest.mark.parametrize("command", ["sla", "quality", "ikm"])
    def test_bad_rules_file(self, demo_db: Path, tmp_path: Path, command: str) -> None:
        """A bad rules file: exit 2, one error line per problem naming FILE:LINE."""
        rules = tmp_path / "bad.yaml"
        rules.write_text(RULES.replace('"0.2"', '"0.3"'))
        code, out, err = run("report", command, "--db", str(demo_db), "--rules", str(rules))
        assert (code, out) == (2, "")
        assert err.startswith(f"error: {rules}:")
        assert "sum" in err
        assert all(line.startswith("error: ") for line in err.splitlines())


QUALITY = 'version: uji\nweights: {ikm: "0.5", closure_rate: "0.5"}\n'


@pytest.mark.parametrize(
    ("command", "option"),
    [("sla", "--rules"), ("quality", "--rules"), ("at-risk", "--directory"),
     ("sla", "--directory"), ("quality", "--config")],
)  # fmt: skip
def test_output_never_replaces_an_input_file(
    demo_db: Path, tmp_path: Path, command: str, option: str
) -> None:
    """-o naming the rules, directory or configuration file read is refused, even with --force."""
    directory = Path(f"{demo_db}.directory.yaml").read_text()
    text = {"--rules": RULES, "--directory": directory, "--config": QUALITY}[option]
    given = tmp_path / "input.yaml"
    given.write_text(text)
    args = ("report", command, "--db", str(demo_db), option, str(given))
    code, _, err = run(*args, "-o", str(given), "--force")
    assert code == 2
    assert "is an input of this command" in err
    assert given.read_text() == text
