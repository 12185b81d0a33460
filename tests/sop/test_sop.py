"""The SOP language: loading, precise problems, static checks, versions and migrations."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from pelayanan.access import Actor
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import (
    MigrationError,
    PermissionDeniedError,
    SOPDefinitionError,
    SOPVersionConflictError,
    UnknownSOPError,
)
from pelayanan.sop import SOP, SOPRegistry, load_sop, sop_from_dict
from pelayanan.store import MemoryStore

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "sop"


def base() -> dict[str, Any]:
    """Return a small valid SOP document."""
    return {
        "id": "contoh",
        "version": "1",
        "title": "Contoh",
        "unit": "unit-a",
        "roles": {"citizen": "warga", "officer": "petugas", "head": "kepala"},
        "submit": {"roles": ["citizen"]},
        "initial": "open",
        "states": {
            "open": {"label": {"id": "Terbuka", "en": "Open"}},
            "checked": {"label": "Diperiksa"},
            "done": {"final": True},
        },
        "actions": [
            {"name": "check", "from": "open", "to": "checked", "roles": ["officer"]},
            {"name": "finish", "from": "checked", "to": "done", "roles": "head"},
        ],
    }


def problems(data: Any) -> list[tuple[str, str]]:
    """Return ``(path, message)`` of every problem *data* has."""
    with pytest.raises(SOPDefinitionError) as caught:
        sop_from_dict(data)
    return [(p.path, p.message) for p in caught.value.problems]


class TestLoading:
    def test_examples_load(self) -> None:
        """Every example SOP loads and validates."""
        for path in sorted(EXAMPLES.glob("*.*")):
            assert isinstance(load_sop(path), SOP)

    def test_short_forms_normalised(self) -> None:
        """A single name stands for a list, and text labels set both languages."""
        sop = sop_from_dict(base())
        assert sop.actions[1].roles == ("head",)
        assert sop.actions[0].sources == ("open",)
        assert (sop.state("checked").label_id, sop.state("checked").label_en) == ("Diperiksa",) * 2
        assert sop.state("done").public_status == "closed"

    def test_hash_is_of_the_canonical_form(self, tmp_path: Path) -> None:
        """The same SOP in YAML, JSON and with short forms expanded has one content hash."""
        data = base()
        (tmp_path / "a.yaml").write_text(yaml.safe_dump(data))
        (tmp_path / "a.json").write_text(json.dumps(data))
        expanded = copy.deepcopy(data)
        expanded["actions"][1]["roles"] = ["head"]
        hashes = {
            load_sop(tmp_path / "a.yaml").content_hash,
            load_sop(tmp_path / "a.json").content_hash,
            sop_from_dict(expanded).content_hash,
        }
        assert len(hashes) == 1

    def test_toml_loads(self, tmp_path: Path) -> None:
        """TOML documents load too."""
        text = """id = "contoh"\nversion = "1"\ntitle = "C"\nunit = "u"\ninitial = "a"
[roles]
officer = "p"
[states.a]
[states.b]
final = true
[[actions]]
name = "go"
from = "a"
to = "b"
roles = ["officer"]
"""
        (tmp_path / "s.toml").write_text(text)
        assert load_sop(tmp_path / "s.toml").initial == "a"

    def test_clocks_structured(self) -> None:
        """Clocks become ClockDef values with durations and escalation steps."""
        sop = load_sop(EXAMPLES / "pengaduan.yaml")
        clock = sop.clock("reporter_reply")
        assert clock.target.unit == "working_days"
        assert clock.target.amount == 10
        assert clock.escalation[0].after_percent == 100
        assert clock.escalation[0].action == "auto_close"
        follow = sop.clock("follow_up")
        assert follow.escalation[1].after is not None
        assert follow.escalation[1].after.amount == 2


class TestProblems:
    def test_unknown_key_did_you_mean(self) -> None:
        """An unknown key is rejected with a suggestion of the closest known key."""
        data = base()
        data["actions"][0]["justifcation"] = True
        ((path, message),) = problems(data)
        assert path == "actions[0].justifcation"
        assert "did you mean 'justification'" in message

    def test_all_problems_collected(self) -> None:
        """Every problem is reported, not only the first."""
        data = base()
        data["titel"] = "x"
        data["states"]["open"]["final"] = "yes"
        data["actions"][0]["to"] = "chekced"
        data["actions"][1]["roles"] = ["boss"]
        paths = {p for p, _ in problems(data)}
        assert {"titel", "states.open.final", "actions[0].to", "actions[1].roles"} <= paths

    def test_version_number_hint(self) -> None:
        """A numeric version is refused with the advice to quote it."""
        data = base()
        data["version"] = 1.0
        ((path, message),) = problems(data)
        assert path == "version"
        assert "quote it" in message

    def test_yaml_lines(self, tmp_path: Path) -> None:
        """Problems name the file and the line of the offending key in YAML."""
        text = yaml.safe_dump(base(), sort_keys=False).replace("to: done", "to: dnoe")
        path = tmp_path / "s.yaml"
        path.write_text(text)
        with pytest.raises(SOPDefinitionError) as caught:
            load_sop(path)
        (problem,) = caught.value.problems
        expected = text.splitlines().index("  to: dnoe") + 1
        assert (problem.file, problem.line, problem.path) == (str(path), expected, "actions[1].to")
        assert problem.render().startswith(f"{path}:{expected}: actions[1].to: ")
        assert "did you mean 'done'" in problem.message

    def test_json_lines(self, tmp_path: Path) -> None:
        """Problems carry the line of the offending key in JSON."""
        data = base()
        data["states"]["checked"]["finl"] = True
        text = json.dumps(data, indent=2)
        path = tmp_path / "s.json"
        path.write_text(text)
        with pytest.raises(SOPDefinitionError) as caught:
            load_sop(path)
        (problem,) = caught.value.problems
        expected = next(i for i, line in enumerate(text.splitlines(), 1) if '"finl"' in line)
        assert (problem.path, problem.line) == ("states.checked.finl", expected)

    def test_json_lines_of_list_items(self, tmp_path: Path) -> None:
        """JSON array items and keys inside them get their own lines."""
        data = base()
        data["actions"][1]["form"] = "checked"
        text = json.dumps(data, indent=1)
        path = tmp_path / "s.json"
        path.write_text(text)
        with pytest.raises(SOPDefinitionError) as caught:
            load_sop(path)
        lines = {p.path: p.line for p in caught.value.problems}
        expected = next(i for i, line in enumerate(text.splitlines(), 1) if '"form"' in line)
        assert lines["actions[1].form"] == expected

    def test_toml_lines(self, tmp_path: Path) -> None:
        """TOML problems carry the line of the key in its table."""
        text = """id = "c"\nversion = "1"\ntitle = "C"\nunit = "u"\ninitial = "a"
[roles]
officer = "p"
[states.a]
[states.b]
finall = true
[[actions]]
name = "go"
from = "a"
to = "b"
roles = ["officer"]
"""
        path = tmp_path / "s.toml"
        path.write_text(text)
        with pytest.raises(SOPDefinitionError) as caught:
            load_sop(path)
        lines = {p.path: p.line for p in caught.value.problems}
        assert lines["states.b.finall"] == 10

    def test_duplicate_yaml_key(self, tmp_path: Path) -> None:
        """A key written twice in YAML is reported instead of silently overwritten."""
        path = tmp_path / "s.yaml"
        path.write_text(yaml.safe_dump(base(), sort_keys=False) + "title: again\n")
        with pytest.raises(SOPDefinitionError) as caught:
            load_sop(path)
        assert [p.path for p in caught.value.problems] == ["title"]
        assert "duplicate key" in caught.value.problems[0].message

    def test_parse_errors(self, tmp_path: Path) -> None:
        """Syntax errors become one problem with the line, never a parser exception."""
        path = tmp_path / "s.json"
        path.write_text('{\n  "id": "x",\n  oops\n}')
        with pytest.raises(SOPDefinitionError) as caught:
            load_sop(path)
        assert caught.value.problems[0].line == 3


class TestStaticChecks:
    def test_unreachable_state(self) -> None:
        """A state no action leads to is reported with how to fix it."""
        data = base()
        data["states"]["orphan"] = {"final": True}
        found = dict(problems(data))
        assert "unreachable" in found["states.orphan"]

    def test_no_way_out(self) -> None:
        """A non-final state without outgoing actions is reported."""
        data = base()
        data["actions"][1]["from"] = "open"
        found = problems(data)
        assert any(p == "states.checked" and "no way out" in m for p, m in found)

    def test_final_with_outgoing(self) -> None:
        """A final state with an outgoing action is reported."""
        data = base()
        data["actions"].append({"name": "reopen", "from": "done", "to": "open", "roles": "head"})
        assert any("final state 'done' has outgoing" in m for _, m in problems(data))

    def test_undeclared_role(self) -> None:
        """Roles used but not declared are reported, with a suggestion."""
        data = base()
        data["actions"][0]["roles"] = ["oficer"]
        ((path, message),) = problems(data)
        assert path == "actions[0].roles"
        assert "did you mean 'officer'" in message

    def test_duplicate_action_from_state(self) -> None:
        """Two actions with the same name from the same state are reported."""
        data = base()
        data["actions"].append({"name": "check", "from": "open", "to": "done", "roles": "head"})
        assert any("already defined from state 'open'" in m for _, m in problems(data))

    def test_no_path_to_final(self) -> None:
        """A loop with no final state reachable is reported."""
        data = base()
        data["actions"][1] = {"name": "back", "from": "checked", "to": "open", "roles": "head"}
        data["states"]["done"] = {"final": True}
        data["actions"].append({"name": "x", "from": "done", "to": "done", "roles": "head"})
        messages = [m for _, m in problems(data)]
        assert any("no final state can be reached" in m for m in messages)

    def test_trap_cycle(self) -> None:
        """Reachable states from which no final state can be reached are reported."""
        data = base()
        data["states"]["limbo"] = {}
        data["actions"].append({"name": "park", "from": "open", "to": "limbo", "roles": "head"})
        data["actions"].append({"name": "stay", "from": "limbo", "to": "limbo", "roles": "head"})
        found = dict(problems(data))
        assert "no final state can be reached from state 'limbo'" in found["states.limbo"]

    def test_clock_references(self) -> None:
        """Clocks naming unknown states, actions or roles are reported."""
        data = base()
        data["clocks"] = [
            {
                "name": "sla",
                "start": {"on_action": ["sumbit"]},
                "stop": {"on_enter": ["dnoe"]},
                "pause": {"on_action": ["check"]},
                "target": {"working_days": 3},
                "warn_at": [75, 50],
                "escalation": [{"after": "100%", "notify": "bos"}, {"after": {"weeks": 1}}],
            }
        ]
        found = problems(data)
        paths = {p for p, _ in found}
        assert {
            "clocks[0].start.on_action",
            "clocks[0].stop.on_enter",
            "clocks[0].resume",
            "clocks[0].warn_at",
            "clocks[0].escalation[0].notify",
            "clocks[0].escalation[1].after.weeks",
        } <= paths
        assert any("did you mean 'submit'" in m for _, m in found)

    def test_automatic_action_needs_system_role(self) -> None:
        """An escalation action must be one the system may take."""
        data = base()
        data["clocks"] = [
            {
                "name": "sla",
                "start": {"on_action": "submit"},
                "stop": {"on_enter": "done"},
                "target": "2 working days",
                "escalation": [{"after": "100%", "action": "finish"}],
            }
        ]
        ((path, message),) = problems(data)
        assert path == "clocks[0].escalation[0].action"
        assert "add 'system' to its roles" in message

    def test_fields_must_be_declared(self) -> None:
        """When fields are declared, every required field must be one of them."""
        data = base()
        data["fields"] = {"subject": {"type": "text"}, "kind": {"type": "choice"}}
        data["actions"][0]["requires"] = ["subjet"]
        paths = dict(problems(data))
        assert "did you mean 'subject'" in paths["actions[0].requires"]
        assert "fields.kind.choices" in paths


class TestVersions:
    def test_registry_holds_versions_side_by_side(self) -> None:
        """Several versions of one SOP are registered; the newest is the default."""
        v1 = sop_from_dict(base())
        data = base()
        data["version"] = "2"
        data["states"]["checked"]["public_note"] = "Sedang diperiksa"
        v2 = sop_from_dict(data)
        registry = SOPRegistry([v1, v2])
        assert registry.get("contoh", "1") is v1
        assert registry.get("contoh") is v2
        assert v1.content_hash != v2.content_hash

    def test_same_version_different_content(self) -> None:
        """Different content under an existing version number is an error."""
        registry = SOPRegistry([sop_from_dict(base())])
        changed = base()
        changed["title"] = "Changed"
        with pytest.raises(SOPVersionConflictError):
            registry.register(sop_from_dict(changed))

    def test_migration_validated(self) -> None:
        """A migration naming a state the earlier version lacks is refused at registration."""
        data = base()
        data["version"] = "2"
        data["migrations"] = [{"from_version": "1", "states": {"opne": "open"}}]
        registry = SOPRegistry([sop_from_dict(base())])
        with pytest.raises(SOPDefinitionError) as caught:
            registry.register(sop_from_dict(data))
        assert caught.value.problems[0].path == "migrations[0].states.opne"
        assert len(registry) == 1

    def test_migration_target_state_checked_at_load(self) -> None:
        """A migration's target states must exist in the SOP declaring it."""
        data = base()
        data["version"] = "2"
        data["migrations"] = [{"from_version": "1", "states": {"open": "nowhere"}}]
        assert problems(data)[0][0] == "migrations[0].states.open"


def _versions() -> tuple[SOP, SOP]:
    v1 = sop_from_dict(base())
    data = base()
    data["version"] = "2"
    data["states"]["triage"] = {"label": "Triase"}
    data["actions"].insert(
        0, {"name": "triage", "from": "open", "to": "triage", "roles": "officer"}
    )
    data["actions"][1]["from"] = "triage"
    data["migrations"] = [
        {
            "from_version": "1",
            "states": {"open": "triage", "checked": "checked"},
            "roles": ["head"],
            "note": "triage step added",
        }
    ]
    return v1, sop_from_dict(data)


class TestMigration:
    def _desk(self, ledger_key: Any, clock: Any) -> tuple[ServiceDesk, SOPRegistry]:
        registry = SOPRegistry([_versions()[0]])
        desk = ServiceDesk(MemoryStore(), sops=registry, signing_key=ledger_key, clock=clock)
        return desk, registry

    def test_migrate_moves_and_audits(self, ledger_key: Any, clock: Any) -> None:
        """A request started under v1 stays pinned until migrated; the move is audited."""
        desk, registry = self._desk(ledger_key, clock)
        citizen, head = Actor("w", {"citizen"}), Actor("k", {"head"})
        request_id = desk.submit("contoh", actor=citizen).request.id
        v2 = _versions()[1]
        registry.register(v2)
        assert desk.get(request_id).sop_version == "1"
        migration = registry.migration("contoh", "1", "2")
        result = desk.migrate(request_id, migration, actor=head)
        assert (result.request.sop_version, result.request.state) == ("2", "triage")
        assert result.request.sop_hash == v2.content_hash
        entry = json.loads(list(desk.store.entries("default"))[-1].data)
        assert entry["kind"] == "migration"
        assert entry["from_sop"]["version"] == "1"
        assert entry["sop"]["version"] == "2"
        assert (entry["from"], entry["to"], entry["note"]) == (
            "open",
            "triage",
            "triage step added",
        )

    def test_migrate_refusals_recorded(self, ledger_key: Any, clock: Any) -> None:
        """Wrong roles and requests on another version are refused and recorded."""
        desk, registry = self._desk(ledger_key, clock)
        request_id = desk.submit("contoh", actor=Actor("w", {"citizen"})).request.id
        registry.register(_versions()[1])
        migration = registry.migration("contoh", "1", "2")
        with pytest.raises(PermissionDeniedError):
            desk.migrate(request_id, migration, actor=Actor("o", {"officer"}))
        desk.migrate(request_id, migration, actor=Actor("k", {"head"}))
        with pytest.raises(MigrationError):
            desk.migrate(request_id, migration, actor=Actor("k", {"head"}))
        kinds = [json.loads(e.data)["kind"] for e in desk.store.entries("default")]
        assert kinds == ["submit", "refused", "migration", "refused"]

    def test_unmapped_state_refused(self, ledger_key: Any, clock: Any) -> None:
        """A request in a state the migration does not map cannot be moved."""
        desk, registry = self._desk(ledger_key, clock)
        citizen, officer, head = (
            Actor("w", {"citizen"}),
            Actor("o", {"officer"}),
            Actor("k", {"head"}),
        )
        request_id = desk.submit("contoh", actor=citizen).request.id
        desk.act(request_id, "check", actor=officer)
        desk.act(request_id, "finish", actor=head)
        registry.register(_versions()[1])
        with pytest.raises(MigrationError, match="maps no state for 'done'"):
            desk.migrate(request_id, registry.migration("contoh", "1", "2"), actor=head)

    def test_undeclared_migration(self) -> None:
        """Asking for a migration no version declares is a typed error."""
        registry = SOPRegistry(_versions())
        with pytest.raises(UnknownSOPError):
            registry.migration("contoh", "2", "1")
