"""The inspectorate's scripts of examples/auditor, run on a demo log and on damaged inputs."""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from pelayanan.audit.export import write_export
from pelayanan.audit.keys import SigningKey, generate_key_pair
from pelayanan.store import MemoryStore

HERE = Path(__file__).resolve().parents[2] / "examples" / "auditor"
T0 = dt.datetime(2026, 7, 6, 1, 0, tzinfo=dt.UTC)


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"auditor_{name}", HERE / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


verify_export = _script("verify_export")
check_receipt = _script("check_receipt")
check_extends = _script("check_extends")
request_verdicts = _script("request_verdicts")


def _cli(*args: str | Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pelayanan", *map(str, args)], check=True, stdout=subprocess.DEVNULL
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo store with its default export, an every-checkpoint export and a receipt."""
    folder = tmp_path_factory.mktemp("auditor")
    db = folder / "demo.db"
    _cli("demo", "--db", db)
    _cli("audit", "export", "--db", db, "-o", folder / "export.jsonl")
    _cli("audit", "export", "--db", db, "--all-checkpoints", "-o", folder / "all.jsonl")
    _cli("audit", "prove", "--db", db, "--seq", "5", "-o", folder / "receipt.json")
    return folder


def _key(demo: Path) -> str:
    return str(demo / "demo.db.keys" / "ledger-public.pem")


def _witness(demo: Path) -> str:
    return str(demo / "demo.db.witness" / "witness-public.pem")


def _tampered(demo: Path, tmp_path: Path) -> str:
    """The export with one entry's actor changed (a new line, so the chain breaks)."""
    lines = (demo / "export.jsonl").read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b'"actor":"', b'"actor":"x', 1)
    path = tmp_path / "tampered.jsonl"
    path.write_bytes(b"\n".join(lines))
    return str(path)


def _run(module: ModuleType, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = module.main(list(args))
    return status, capsys.readouterr().out


class TestVerifyExport:
    def test_intact_with_witness(self, demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
        status, out = _run(
            verify_export,
            capsys,
            str(demo / "export.jsonl"),
            "--trusted-key",
            _key(demo),
            "--since",
            str(demo / "demo.db.witness" / "witness.json"),
            "--witness-key",
            _witness(demo),
        )
        assert status == 0, out
        assert "VERDICT: INTACT" in out
        assert "still extends the saved checkpoint" in out

    def test_receipt_without_cosignature_is_not_enough(
        self, demo: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        status, out = _run(
            verify_export,
            capsys,
            str(demo / "export.jsonl"),
            "--trusted-key",
            _key(demo),
            "--since",
            str(demo / "receipt.json"),
            "--witness-key",
            _witness(demo),
        )
        assert status == 1
        assert "0 valid witness cosignature(s), 1 required" in out

    def test_tampered_export(
        self, demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        status, out = _run(
            verify_export, capsys, _tampered(demo, tmp_path), "--trusted-key", _key(demo)
        )
        assert status == 1
        assert "VERDICT: NOT VERIFIED" in out

    def test_untrusted_key(self, demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
        status, _ = _run(
            verify_export, capsys, str(demo / "export.jsonl"), "--trusted-key", _witness(demo)
        )
        assert status == 1

    def test_unreadable_inputs(self, demo: Path, tmp_path: Path) -> None:
        export = str(demo / "export.jsonl")
        assert verify_export.main([export, "--trusted-key", str(tmp_path / "none.pem")]) == 2
        with pytest.raises(SystemExit) as exc:
            verify_export.main([export, "--trusted-key", _key(demo), "--witnesses", "1"])
        assert exc.value.code == 2


class TestCheckReceipt:
    def test_valid(self, demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
        status, out = _run(
            check_receipt, capsys, str(demo / "receipt.json"), "--trusted-key", _key(demo)
        )
        assert status == 0, out
        assert "VERDICT: RECEIPT VALID" in out
        assert "entry 5 of ledger" in out

    def test_altered_or_wrong_key(
        self, demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        doc = json.loads((demo / "receipt.json").read_text(encoding="utf-8"))
        doc["entry_hash"] = "00" + doc["entry_hash"][2:]
        altered = tmp_path / "altered.json"
        altered.write_text(json.dumps(doc), encoding="utf-8")
        assert _run(check_receipt, capsys, str(altered), "--trusted-key", _key(demo))[0] == 1
        receipt = str(demo / "receipt.json")
        assert _run(check_receipt, capsys, receipt, "--trusted-key", _witness(demo))[0] == 1
        assert (
            _run(check_receipt, capsys, str(tmp_path / "none.json"), "--trusted-key", _key(demo))[0]
            == 2
        )


def _prefix(demo: Path, tmp_path: Path, size: int) -> str:
    """The export the store would have given at *size* entries (cut after a checkpoint)."""
    lines = (demo / "all.jsonl").read_bytes().splitlines(keepends=True)
    header = json.loads(lines[0])
    kept, entries = [], 0
    for line in lines[1:]:
        if entries == size and not line.startswith(b'{"checkpoint"'):
            break
        kept.append(line)
        entries += not line.startswith(b'{"checkpoint"')
    header["size"] = size
    head = json.dumps(header, separators=(",", ":")) + "\n"
    path = tmp_path / f"old-{size}.jsonl"
    path.write_bytes(head.encode() + b"".join(kept))
    return str(path)


def _store(key: SigningKey, actors: list[str]) -> MemoryStore:
    store = MemoryStore()
    for i, actor in enumerate(actors):
        when = T0 + dt.timedelta(minutes=i)
        body = {"time": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "kind": "note", "actor": actor}
        store.append("kota", body, time=when, sign=lambda cp: cp.sign(key))
    return store


class TestCheckExtends:
    def test_prefix_is_extended(
        self, demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        old, new = _prefix(demo, tmp_path, 100), str(demo / "export.jsonl")
        status, out = _run(check_extends, capsys, old, new, "--trusted-key", _key(demo))
        assert status == 0, out
        assert "the 100 old entries are unchanged" in out
        assert _run(check_extends, capsys, new, old, "--trusted-key", _key(demo))[0] == 1

    def test_rewritten_history_names_the_first_divergence(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        key = generate_key_pair()
        paths = []
        for name, actors in (("old", ["a", "b", "c"]), ("new", ["a", "b", "X", "d"])):
            buffer = io.BytesIO()
            write_export(_store(key, actors), buffer)
            paths.append(tmp_path / f"{name}.jsonl")
            paths[-1].write_bytes(buffer.getvalue())
        pem = tmp_path / "key.pem"
        pem.write_bytes(key.verifier.public_pem())
        status, out = _run(check_extends, capsys, *map(str, paths), "--trusted-key", str(pem))
        assert status == 1
        assert "entry 2: differs" in out


class TestRequestVerdicts:
    def _request(self, demo: Path) -> str:
        lines = (demo / "export.jsonl").read_text(encoding="utf-8").splitlines()
        request: str = json.loads(lines[1])["request"]
        return request

    def test_verdicts_and_entries(self, demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
        request = self._request(demo)
        status, out = _run(
            request_verdicts,
            capsys,
            str(demo / "export.jsonl"),
            "--request",
            request,
            "--trusted-key",
            _key(demo),
        )
        assert status == 0, out
        assert f"entries of {request}" in out
        assert "#0 " in out
        assert "(cycle 1):" in out

    def test_unknown_request_tampered_log_other_calendar(
        self, demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        export, key, request = str(demo / "export.jsonl"), _key(demo), self._request(demo)
        assert (
            _run(request_verdicts, capsys, export, "--request", "NONE", "--trusted-key", key)[0]
            == 1
        )
        tampered = _tampered(demo, tmp_path)
        assert (
            _run(request_verdicts, capsys, tampered, "--request", request, "--trusted-key", key)[0]
            == 1
        )
        other = ("--tz", "Asia/Jayapura")
        assert (
            _run(
                request_verdicts, capsys, export, "--request", request, "--trusted-key", key, *other
            )[0]
            == 2
        )


@pytest.mark.parametrize(
    "name",
    ["verify_export", "check_receipt", "check_extends", "request_verdicts", "verify_standalone"],
)
def test_every_script_has_help(name: str) -> None:
    result = subprocess.run(
        [sys.executable, str(HERE / f"{name}.py"), "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "--trusted-key" in result.stdout
