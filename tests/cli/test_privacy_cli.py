"""The ``pelayanan privacy`` commands and the demo's personal data."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pelayanan.cli._demo_privacy import make_citizens
from pelayanan.cli._main import cli
from pelayanan.store import SQLiteStore

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED = 3


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo database (with its key folder) for the module."""
    db = tmp_path_factory.mktemp("privacy-demo") / "demo.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(db), "--seed", str(SEED)])
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo database and its keys."""
    db = tmp_path / "demo.db"
    shutil.copy(demo_template, db)
    shutil.copytree(Path(f"{demo_template}.keys"), Path(f"{db}.keys"))
    return db


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def _subjects(db: Path) -> list[str]:
    code, out, _ = _run("privacy", "subjects", "--db", str(db))
    assert code == 0
    return out.splitlines()


def _last_entry(db: Path) -> dict[str, object]:
    store = SQLiteStore(db)
    try:
        ledger = store.ledgers()[0]
        size = store.head(ledger).size
        entry = next(store.entries(ledger, size - 1, size))
    finally:
        store.close()
    return dict(json.loads(entry.data))


def _live_subject(db: Path) -> str:
    """A subject that is neither erased nor held in the demo."""
    for subject in _subjects(db):
        code, _, _ = _run(
            "privacy", "show", "--db", str(db), "--subject", subject, "--purpose", "probe"
        )
        if code == 0:
            store = SQLiteStore(db)
            held = store.vault_holds(subject=subject)
            store.close()
            if not held:
                return subject
    raise AssertionError("no live subject")


def _raw(paths: list[Path]) -> bytes:
    return b"".join(p.read_bytes() for p in paths if p.exists())


class TestDemoCitizens:
    """The demo's citizens carry realistic, deterministic personal data."""

    def test_citizens_are_deterministic_and_plausible(self) -> None:
        """Same seed, same people; 16-digit NIKs with a Bandung region and a birth date."""
        people = make_citizens(SEED)
        assert people == make_citizens(SEED)
        assert people != make_citizens(SEED + 1)
        for person in people:
            nik = person["nik"]
            assert re.fullmatch(r"3273\d{12}", nik)
            day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
            dt.date(2000 + year if year < 30 else 1900 + year, month, day % 40 or day)
            assert re.fullmatch(r"\+628\d{9,10}", person["telepon"])
            assert len(person["nama"].split()) >= 2
        assert len({p["nik"] for p in people}) == len(people)

    def test_demo_store_and_export_hold_no_plaintext(self, demo_db: Path, tmp_path: Path) -> None:
        """No generated name, NIK, phone or address is in the store or an export in clear."""
        export = tmp_path / "a.jsonl"
        code, _, _ = _run("audit", "export", "--db", str(demo_db), "-o", str(export))
        assert code == 0
        blob = _raw([demo_db, Path(f"{demo_db}-wal"), export])
        for person in make_citizens(SEED):
            for value in person.values():
                assert value.encode() not in blob, value

    def test_demo_prints_the_privacy_showcase(self, tmp_path: Path) -> None:
        """The demo reports sealed fields, a reveal, a refusal, a hold and an erasure."""
        result = CliRunner().invoke(cli, ["demo", "--db", str(tmp_path / "d.db"), "--seed", "3"])
        assert result.exit_code == 0, result.output
        assert "personal data:" in result.output
        assert "erasure refused" in result.output
        assert "(legal_hold)" in result.output
        assert "erased (key destroyed)" in result.output


class TestSubjectsAndShow:
    """``privacy subjects`` lists ids; ``privacy show`` answers access requests."""

    def test_subjects_lists_pseudonymous_ids(self, demo_db: Path) -> None:
        """One ``subj-`` id per line, exit 0."""
        subjects = _subjects(demo_db)
        assert len(subjects) > 5
        assert all(re.fullmatch(r"subj-[0-9a-f]{20}", s) for s in subjects)

    def test_show_prints_json_and_records_a_reveal(self, demo_db: Path) -> None:
        """The subject's data is printed as JSON; the log records the reveal and purpose."""
        subject = _live_subject(demo_db)
        code, out, _ = _run(
            "privacy", "show", "--db", str(demo_db), "--subject", subject,
            "--purpose", "Permintaan akses PDP-2026-020", "--actor", "ppid-7",
        )  # fmt: skip
        assert code == 0
        data = json.loads(out)
        assert data["subject"] == subject
        fields = next(iter(data["requests"].values()))["fields"]
        assert set(fields) == {"nama", "nik", "telepon", "alamat"}
        assert fields["nik"] in {p["nik"] for p in make_citizens(SEED)}
        entry = _last_entry(demo_db)
        assert entry["kind"] == "reveal"
        assert entry["actor"] == "ppid-7"
        assert entry["purpose"] == "Permintaan akses PDP-2026-020"

    def test_show_unknown_subject_exits_1(self, demo_db: Path) -> None:
        """An unknown subject id exits 1 with the reason."""
        code, _, err = _run(
            "privacy", "show", "--db", str(demo_db), "--subject", "subj-x", "--purpose", "p"
        )
        assert code == 1
        assert "no data subject" in err


class TestErase:
    """``privacy erase`` destroys a key, or refuses with the reason; both recorded."""

    def test_erase_then_show_fails_and_log_verifies(self, demo_db: Path, tmp_path: Path) -> None:
        """Erasure exits 0; show then exits 1; the log verifies; no key material remains."""
        subject = _live_subject(demo_db)
        code, out, _ = _run("privacy", "show", "--db", str(demo_db), "--subject", subject,
                            "--purpose", "before")  # fmt: skip
        values = [v for r in json.loads(out)["requests"].values() for v in r["fields"].values()]
        store = SQLiteStore(demo_db)
        wrapped = store.vault_key(subject)
        store.close()
        assert wrapped is not None
        code, out, err = _run(
            "privacy", "erase", "--db", str(demo_db), "--subject", subject, "--reason", "PDP-1"
        )
        assert code == 0, err
        assert subject in out
        assert _last_entry(demo_db)["kind"] == "erasure"
        code, _, err = _run(
            "privacy", "show", "--db", str(demo_db), "--subject", subject, "--purpose", "after"
        )
        assert code == 1
        assert "erased" in err
        code, out, _ = _run("audit", "verify", "--db", str(demo_db))
        assert code == 0, out
        export = tmp_path / "after.jsonl"
        assert _run("audit", "export", "--db", str(demo_db), "-o", str(export))[0] == 0
        blob = _raw([demo_db, Path(f"{demo_db}-wal"), export])
        assert wrapped.wrapped not in blob
        for value in values:
            assert str(value).encode() not in blob

    def test_hold_refuses_erase_until_released(self, demo_db: Path) -> None:
        """Under a legal hold, erase exits 1 naming the hold; after release it succeeds."""
        subject = _live_subject(demo_db)
        code, out, _ = _run(
            "privacy", "hold", "--db", str(demo_db), "--subject", subject, "--reason", "perkara 9"
        )
        assert code == 0
        hold = out.strip()
        code, _, err = _run(
            "privacy", "erase", "--db", str(demo_db), "--subject", subject, "--reason", "PDP-2"
        )
        assert code == 1
        assert "legal_hold" in err
        assert hold in err
        assert _last_entry(demo_db)["kind"] == "erasure_refused"
        code, _, _ = _run(
            "privacy", "release", "--db", str(demo_db), "--hold", hold, "--reason", "selesai"
        )
        assert code == 0
        code, _, err = _run(
            "privacy", "erase", "--db", str(demo_db), "--subject", subject, "--reason", "PDP-2"
        )
        assert code == 0, err

    def test_retention_class_refuses(self, demo_db: Path, tmp_path: Path) -> None:
        """An SOP with a retention class: unconfigured or unexpired retention exits 1."""
        doc = yaml.safe_load((EXAMPLES / "sop" / "pengaduan.yaml").read_text(encoding="utf-8"))
        doc["privacy"]["retention"] = "arsip-pengaduan"
        sop_file = tmp_path / "retained.yaml"
        sop_file.write_text(yaml.safe_dump(doc), encoding="utf-8")
        subject = _live_subject(demo_db)
        base = ["privacy", "erase", "--db", str(demo_db), "--subject", subject, "--reason", "r"]
        code, _, err = _run(*base, "--sop", str(sop_file))
        assert code == 1
        assert "retention_unconfigured" in err
        code, _, err = _run(*base, "--sop", str(sop_file), "--retention", "arsip-pengaduan=P50Y")
        assert code == 1
        assert "(retention)" in err
        code, _, err = _run(*base, "--retention", "bad")
        assert code == 2

    def test_missing_master_key_is_a_clean_error(self, demo_db: Path) -> None:
        """Without the vault master key, erase fails with one line, exit 2, no traceback."""
        Path(f"{demo_db}.keys/vault-master.key").unlink()
        subject = _subjects(demo_db)[0]
        code, _, err = _run(
            "privacy", "erase", "--db", str(demo_db), "--subject", subject, "--reason", "r"
        )
        assert code == 2
        assert err.startswith("error: ")
        assert "vault master key" in err


class TestPublish:
    """``privacy publish`` prints aggregated counts only."""

    def test_publish_has_no_personal_data(self, demo_db: Path) -> None:
        """Counts per SOP, month and state; no ids, names or numbers of people."""
        code, out, _ = _run("privacy", "publish", "--db", str(demo_db), "--min-count", "2")
        assert code == 0
        published = json.loads(out)
        assert published["format"] == "pelayanan-open-data-v1"
        assert sum(c.get("count", 0) for c in published["cells"]) > 0
        for forbidden in ("subj-", "ADU-", "+628", "3273"):
            assert forbidden not in out

    def test_publish_refuses_unknown_zone(self, demo_db: Path) -> None:
        """An unknown zone exits 2."""
        code, _, _ = _run("privacy", "publish", "--db", str(demo_db), "--tz", "Mars/Olympus")
        assert code == 2
