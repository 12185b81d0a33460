"""``sop simulate``: acting officials, parallel branches, --calendar and --routing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pelayanan.cli import cli
from pelayanan.exceptions import ScenarioError
from pelayanan.sop import load_sop
from pelayanan.sop.simulate import scenario_from_dict, simulate

ROOT = Path(__file__).resolve().parents[2]
SOPS = ROOT / "examples" / "sop"


def _scenario(path: Path) -> dict[str, object]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout + result.stderr


class TestActingOfficial:
    def test_plh_signs_under_the_delegation(self) -> None:
        """The Plh's signature is accepted and names the principal."""
        sop = load_sop(SOPS / "skck-polres.yaml")
        scenario = scenario_from_dict(_scenario(SOPS / "scenarios" / "skck-polres.yaml"))
        last = list(simulate(sop, scenario))[-1]
        assert (last.accepted, last.state, last.authority) == (True, "terbit", "kasat")

    def test_without_the_delegation_the_plh_is_refused(self) -> None:
        """Outside the delegation's period the same step is refused."""
        data = _scenario(SOPS / "scenarios" / "skck-polres.yaml")
        access: dict[str, list[dict[str, object]]] = data["access"]  # type: ignore[assignment]
        access["delegations"][0]["valid_until"] = "2026-07-06T09:00:00+07:00"
        sop = load_sop(SOPS / "skck-polres.yaml")
        last = list(simulate(sop, scenario_from_dict(data)))[-1]
        assert not last.accepted
        assert last.reason is not None
        assert "PermissionDeniedError" in last.reason

    def test_bad_delegation_is_named_at_its_key(self) -> None:
        """The access section is read by the shared reader: problems name the key path."""
        data = _scenario(SOPS / "scenarios" / "skck-polres.yaml")
        access: dict[str, list[dict[str, object]]] = data["access"]  # type: ignore[assignment]
        access["delegations"][0]["kind"] = "acting"
        with pytest.raises(ScenarioError) as info:
            scenario_from_dict(data)
        assert "access.delegations[0].kind" in str(info.value)


class TestParallelPreview:
    def test_branches_are_shown(self) -> None:
        """Each step inside the parallel state lists the branches' states."""
        code, out = _run(
            "sop", "simulate", str(SOPS / "pbg.yaml"), str(SOPS / "scenarios" / "pbg.yaml")
        )
        assert code == 0, out
        assert "branches: arsitektur telaah_arsitektur, mep telaah_mep" in out
        assert "-> penilaian_retribusi" in out


class TestOptions:
    def test_routing_file_routes_the_submission(self, tmp_path: Path) -> None:
        """--routing sends the submission to the unit the rules decide."""
        scenario = tmp_path / "one.yaml"
        scenario.write_text(
            "actors: {warga: {roles: [citizen]}}\n"
            "steps:\n"
            "  - at: '2026-07-06T09:15:00+07:00'\n"
            "    actor: warga\n"
            "    action: submit\n"
            "    data: {subject: Puskesmas tutup, category: kesehatan}\n",
            encoding="utf-8",
        )
        args = ["sop", "simulate", str(SOPS / "pengaduan.yaml"), str(scenario)]
        _, plain = _run(*args)
        assert "held by unit-pengaduan" in plain
        code, out = _run(*args, "--routing", str(ROOT / "examples" / "routing" / "pemkot.yaml"))
        assert code == 0, out
        assert "held by dinas-kesehatan" in out

    def test_calendar_file_moves_the_deadlines(self, tmp_path: Path) -> None:
        """--calendar counts the deadlines on the given calendar."""
        calendar = tmp_path / "nonstop.yaml"
        calendar.write_text(
            "name: nonstop\nhours:\n"
            + "".join(f"  {d}day: ['06:00-22:00']\n" for d in ("mon", "tues", "wednes"))
            + "".join(f"  {d}day: ['06:00-22:00']\n" for d in ("thurs", "fri", "satur", "sun")),
            encoding="utf-8",
        )
        args = ["sop", "simulate", str(SOPS / "izin-reklame.yaml")]
        args.append(str(SOPS / "scenarios" / "izin-reklame.yaml"))
        _, plain = _run(*args)
        code, out = _run(*args, "--calendar", str(calendar))
        assert code == 0, out
        assert out != plain

    def test_bad_routing_file_is_one_line_per_problem(self, tmp_path: Path) -> None:
        """A broken routing file gives FILE:LINE: key.path lines, not a traceback."""
        routing = tmp_path / "r.yaml"
        routing.write_text("rules:\n  - name: x\n    when: {planet: mars}\n    unit: u\n")
        code, out = _run(
            "sop",
            "simulate",
            str(SOPS / "pengaduan.yaml"),
            str(SOPS / "scenarios" / "pengaduan.yaml"),
            "--routing",
            str(routing),
        )
        assert code == 2
        assert f"{routing}:3: rules[0].when" in out
        assert "Traceback" not in out
