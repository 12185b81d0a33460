"""``pelayanan sop``: check, diagram, schema and simulate; the docs reference stays in sync."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pelayanan.cli import cli
from pelayanan.exceptions import ScenarioError
from pelayanan.sop import load_sop, render_reference, sop_json_schema
from pelayanan.sop.simulate import scenario_from_dict, simulate

ROOT = Path(__file__).resolve().parents[2]
SOPS = ROOT / "examples" / "sop"
PAIRS = [
    ("pengaduan.yaml", "pengaduan.yaml"),
    ("izin-reklame.yaml", "izin-reklame.yaml"),
    ("cuti-tahunan.json", "cuti-tahunan.yaml"),
    ("panggilan-darurat-112.yaml", "panggilan-darurat-112.yaml"),
    ("skck-polres.yaml", "skck-polres.yaml"),
    ("pbg.yaml", "pbg.yaml"),
]


def run(*args: str) -> tuple[int, str, str]:
    """Run the CLI; return exit code, stdout and stderr."""
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


class TestCheck:
    def test_valid_files(self) -> None:
        """Every example passes sop check with exit 0."""
        code, out, _ = run("sop", "check", *(str(SOPS / s) for s, _ in PAIRS))
        assert code == 0
        assert out.count(": valid: ") == len(PAIRS)

    def test_invalid_file_lines(self, tmp_path: Path) -> None:
        """An invalid file exits 1: one ``error: FILE:LINE: KEY.PATH: message`` per problem."""
        text = (SOPS / "pengaduan.yaml").read_text()
        text = text.replace(
            "    to: closed\n    roles: [supervisor", "    to: clsoed\n    roles: [supervisr"
        )
        text = text.replace("  verified:\n", "  verified:\n    finall: true\n")
        path = tmp_path / "bad.yaml"
        path.write_text(text)
        code, out, err = run("sop", "check", str(path))
        assert code == 1
        assert out == ""
        lines = err.strip().splitlines()
        assert len(lines) == 3
        for line in lines:
            assert line.startswith("error: ")
            file, number, rest = line.removeprefix("error: ").split(":", 2)
            assert file == str(path)
            assert int(number) > 0
            assert rest.startswith(" ")
        assert any("did you mean 'final'" in line for line in lines)

    @pytest.mark.parametrize(
        ("target", "message"),
        [
            ("{working_days: 100000}", "too long"),
            ("{calendar_minutes: 1.5}", "must be a whole number"),
            ("{calendar_hours: 0.01}", "whole number of minutes"),
            ("P1Y", "not a supported ISO 8601 duration"),
        ],
    )
    def test_bad_duration_is_a_problem_line(
        self, tmp_path: Path, target: str, message: str
    ) -> None:
        """A duration that cannot be stored exactly or runs past the years is one FILE:LINE."""
        text = (SOPS / "pengaduan.yaml").read_text()
        text = text.replace("target: {working_days: 3}", f"target: {target}", 1)
        path = tmp_path / "bad.yaml"
        path.write_text(text)
        code, out, err = run("sop", "check", str(path))
        assert code == 1, out + err
        assert "Traceback" not in out + err
        (line,) = err.strip().splitlines()
        file, number, rest = line.removeprefix("error: ").split(":", 2)
        assert file == str(path)
        assert int(number) == text.splitlines().index(f"    target: {target}") + 1
        assert rest.startswith(" clocks[0].target")
        assert message in rest

    @pytest.mark.parametrize("target", ["{calendar_hours: 0.5}", "PT10M", "'PT1H30M'"])
    def test_minute_targets_simulate(self, tmp_path: Path, target: str) -> None:
        """Minute and ISO targets pass check and a whole scenario runs on them."""
        text = (SOPS / "pengaduan.yaml").read_text()
        text = text.replace("target: {working_days: 3}", f"target: {target}", 1)
        path = tmp_path / "minutes.yaml"
        path.write_text(text)
        code, out, err = run("sop", "check", str(path))
        assert code == 0, out + err
        scenario = SOPS / "scenarios" / "pengaduan.yaml"
        code, out, err = run("sop", "simulate", str(path), str(scenario))
        assert code == 0, out + err
        assert "scenario completed" in out

    def test_garbage_never_tracebacks(self, tmp_path: Path) -> None:
        """Unparseable and binary files exit 1 with a problem line, not a traceback."""
        for name, content in [("a.yaml", b"a: [\n"), ("b.json", b"\xff\xfe"), ("c.txt", b"x")]:
            path = tmp_path / name
            path.write_bytes(content)
            code, out, err = run("sop", "check", str(path))
            assert code == 1
            assert err.startswith(f"error: {path}")
            assert "Traceback" not in out + err

    def test_missing_file(self, tmp_path: Path) -> None:
        """A missing file is bad input: one error line, exit 2."""
        code, _, err = run("sop", "check", str(tmp_path / "none.yaml"))
        assert code == 2
        assert err.startswith("error: ")
        assert "does not exist" in err


class TestDiagram:
    def test_mermaid(self) -> None:
        """The Mermaid diagram has every state and action edge."""
        code, out, _ = run("sop", "diagram", str(SOPS / "pengaduan.yaml"))
        assert code == 0
        assert out.startswith("stateDiagram-v2")
        assert "[*] --> received" in out
        assert "dispatched --> verified : bukan_wewenang [officer]" in out
        assert "closed --> [*]" in out

    def test_dot(self) -> None:
        """The DOT graph marks final states and labels edges."""
        code, out, _ = run("sop", "diagram", str(SOPS / "izin-reklame.yaml"), "--format", "dot")
        assert code == 0
        assert out.startswith('digraph "izin-reklame"')
        assert '"issued" [label="Izin terbit\\nPermit issued", peripheries=2];' in out

    def test_invalid_exits_2(self, tmp_path: Path) -> None:
        """An invalid SOP is bad input: its problems on stderr, exit 2."""
        path = tmp_path / "x.yaml"
        path.write_text("id: x\n")
        code, _, err = run("sop", "diagram", str(path))
        assert code == 2
        assert "is required" in err


class TestSchema:
    def test_schema_is_json_schema(self) -> None:
        """The printed schema is JSON with the language's top-level keys and no private keywords."""
        code, out, _ = run("sop", "schema")
        assert code == 0
        schema = json.loads(out)
        assert schema == sop_json_schema()
        assert {"states", "actions", "clocks", "migrations"} <= set(schema["properties"])
        assert "x-expected" not in out

    def test_examples_valid_against_schema_keys(self) -> None:
        """Every top-level key used by the examples is in the schema (the editor sees them)."""
        keys = set(sop_json_schema()["properties"])
        for name, _ in PAIRS:
            text = (SOPS / name).read_text()
            data = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
            assert set(data) <= keys

    def test_docs_reference_in_sync(self) -> None:
        """docs/sop-language.md holds exactly the reference generated from the schema."""
        text = (ROOT / "docs" / "sop-language.md").read_text()
        begin = "<!-- BEGIN GENERATED REFERENCE (pelayanan sop schema --format markdown) -->\n"
        end = "<!-- END GENERATED REFERENCE -->"
        generated = text.split(begin, 1)[1].split(end, 1)[0]
        assert generated == render_reference()


class TestSimulate:
    @pytest.mark.parametrize(("sop", "scenario"), PAIRS)
    def test_example_scenarios_run(self, sop: str, scenario: str) -> None:
        """Every example scenario runs to its end with exit 0."""
        code, out, err = run("sop", "simulate", str(SOPS / sop), str(SOPS / "scenarios" / scenario))
        assert code == 0, out + err
        assert "scenario completed" in out

    def test_complaint_clocks(self) -> None:
        """The complaint scenario shows the clocks' deadlines on the government calendar."""
        _, out, _ = run(
            "sop",
            "simulate",
            str(SOPS / "pengaduan.yaml"),
            str(SOPS / "scenarios" / "pengaduan.yaml"),
        )
        # Submitted Monday 6 July 2026: 3 working days -> close of Thursday 9 July.
        assert "clock verification: running, due 2026-07-09T16:00+07:00" in out
        assert "clock follow_up: paused" in out
        assert "clock reporter_reply: stopped, breached" in out

    def test_refused_step_exits_1(self, tmp_path: Path) -> None:
        """The first unexpected refusal ends the run with exit 1 and the reason."""
        scenario = tmp_path / "s.yaml"
        scenario.write_text(
            "actors: {w: {roles: [citizen]}, o: {roles: [officer]}}\n"
            "steps:\n"
            "  - {at: '2026-07-06T09:00:00+07:00', actor: w, action: submit,"
            " data: {subject: s, category: lainnya}}\n"
            "  - {after: {working_hours: 1}, actor: o, action: verify}\n"
            "  - {after: {working_hours: 1}, actor: o, action: verify}\n"
        )
        code, out, err = run("sop", "simulate", str(SOPS / "pengaduan.yaml"), str(scenario))
        assert code == 1
        assert "PermissionDeniedError" in out
        assert err.startswith(f"error: {scenario}:4: steps[1]:")
        assert out.count("\n 3.") == 0

    def test_bad_scenario(self, tmp_path: Path) -> None:
        """An invalid scenario is bad input: problem lines on stderr, exit 2."""
        scenario = tmp_path / "s.yaml"
        scenario.write_text("steps:\n  - {actor: nobody, action: submit, at: tomorrow}\n")
        code, _, err = run("sop", "simulate", str(SOPS / "pengaduan.yaml"), str(scenario))
        assert code == 2
        assert "steps[0].actor" in err
        assert "steps[0].at" in err

    def test_steps_must_move_forward(self) -> None:
        """A step earlier than its predecessor is a scenario error."""
        sop = load_sop(SOPS / "pengaduan.yaml")
        scenario = scenario_from_dict(
            {
                "actors": {"w": {"roles": ["citizen"]}},
                "steps": [
                    {
                        "at": "2026-07-06T09:00+07:00",
                        "actor": "w",
                        "action": "submit",
                        "data": {"subject": "a", "category": "lainnya"},
                    },
                    {"at": "2026-07-06T08:00+07:00", "actor": "w", "action": "reply"},
                ],
            }
        )
        with pytest.raises(ScenarioError):
            list(simulate(sop, scenario))

    def test_expected_refusal_that_passes_fails(self) -> None:
        """A step expected to be refused but accepted stops the simulation as unexpected."""
        sop = load_sop(SOPS / "pengaduan.yaml")
        scenario = scenario_from_dict(
            {
                "actors": {"w": {"roles": ["citizen"]}},
                "steps": [
                    {
                        "at": "2026-07-06T09:00+07:00",
                        "actor": "w",
                        "action": "submit",
                        "expect": "refused",
                        "data": {"subject": "a", "category": "lainnya"},
                    },
                    {"after": "1 working hours", "actor": "w", "action": "submit"},
                ],
            }
        )
        results = list(simulate(sop, scenario))
        assert len(results) == 1
        assert results[0].accepted
        assert not results[0].as_expected
