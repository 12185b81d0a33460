"""Routing: regions, the indexed rule table, assignment strategies, disposisi at the desk."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desk_support import submit_routed
from pelayanan.access import Actor
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import (
    ConfigurationError,
    RoutingError,
)
from pelayanan.routing import (
    AssignmentPolicy,
    Officer,
    Region,
    RoutingConfig,
    RoutingTable,
    Rule,
    load_routing_config,
    routing_config_from_dict,
)

ROOT = Path(__file__).resolve().parents[2]


class TestRegion:
    def test_levels_and_ancestors(self) -> None:
        """A village code lies under its kecamatan, kota and province."""
        village = Region.parse("32.73.01.1001")
        assert village.level == "kelurahan/desa"
        assert village.ancestors == ("32", "32.73", "32.73.01", "32.73.01.1001")
        assert Region.parse("32.73").contains(village)
        assert not Region.parse("32.74").contains(village)

    @pytest.mark.parametrize("code", ["3", "32.7", "32.73.1", "32.73.01.101", "x", "32..73"])
    def test_bad_codes_refused(self, code: str) -> None:
        """Codes that are not 2.2.2.4 dotted digits are refused with a hint."""
        with pytest.raises(ConfigurationError, match="Kemendagri"):
            Region.parse(code)


class TestRoutingTable:
    def test_first_match_wins(self, routing_config: RoutingConfig) -> None:
        """The narrower kecamatan rule comes first, so it wins over the city rule."""
        decision = routing_config.table.route({"category": "kebersihan", "region": "32.73.01.1001"})
        assert (decision.unit, decision.rule, decision.position) == ("kec-01", "sampah-kec-01", 2)
        other = routing_config.table.route({"category": "kebersihan", "region": "32.73.05.1002"})
        assert other.unit == "dlh"

    def test_unmatched_goes_to_triage(self, routing_config: RoutingConfig) -> None:
        """A request no rule matches goes to the triage unit, recorded as such."""
        decision = routing_config.table.route({"category": "sosial"})
        assert decision.triage
        assert decision.record()["rule"] == "triage"

    def test_unmatched_without_triage_raises(self) -> None:
        """Without a triage unit, an unmatched request raises a RoutingError."""
        table = RoutingTable([Rule("a", "u", {"category": ["x"]})])
        with pytest.raises(RoutingError, match="triage"):
            table.route({"category": "y"})

    def test_missing_attribute_matches_only_wildcards(self) -> None:
        """A rule naming an attribute the request lacks does not match."""
        table = RoutingTable([Rule("a", "u", {"region": ["32"]}), Rule("b", "v")])
        assert table.route({}).rule == "b"

    def test_bad_region_in_request(self, routing_config: RoutingConfig) -> None:
        """A malformed region code in the request is a RoutingError, not a traceback."""
        with pytest.raises(RoutingError, match="Kemendagri"):
            routing_config.table.route({"category": "kebersihan", "region": "bandung"})

    def test_unknown_attribute_in_rule(self) -> None:
        """A rule on an unknown attribute is refused with a suggestion."""
        with pytest.raises(ConfigurationError, match="did you mean 'category'"):
            Rule("a", "u", {"categori": ["x"]})

    @settings(max_examples=60)
    @given(
        rules=st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "category": st.sets(st.sampled_from("abc"), min_size=1, max_size=2),
                    "channel": st.sets(st.sampled_from("xy"), min_size=1),
                    "region": st.sets(
                        st.sampled_from(["32", "32.73", "32.73.01", "33", "32.73.02.2001"]),
                        min_size=1,
                    ),
                },
            ),
            max_size=12,
        ),
        request=st.fixed_dictionaries(
            {},
            optional={
                "category": st.sampled_from("abcd"),
                "channel": st.sampled_from("xyz"),
                "region": st.sampled_from(["32.73.01.1001", "32.73.02.2001", "33.01", "32"]),
            },
        ),
    )
    def test_index_agrees_with_scan(
        self, rules: list[dict[str, set[str]]], request: dict[str, str]
    ) -> None:
        """The indexed decision equals the first rule a plain scan finds."""
        made = [Rule(f"r{i}", f"u{i}", when) for i, when in enumerate(rules)]
        table = RoutingTable(made, triage="triage")
        expected = next((r for r in made if r.matches(request)), None)
        decision = table.route(request)
        assert decision.rule == (expected.name if expected else None)


class TestAssignment:
    def test_least_loaded_breaks_ties_by_order(self) -> None:
        """Least-loaded picks the fewest open requests, then list order."""
        policy = AssignmentPolicy("u", "least_loaded", (Officer("a"), Officer("b")))
        assert policy.choose({}, attributes={}).assignee == "a"
        assert policy.choose({"a": (2, 5), "b": (1, 9)}, attributes={}).assignee == "b"

    def test_round_robin_rotates(self) -> None:
        """Round-robin hands the next request to whoever was handed the fewest so far."""
        policy = AssignmentPolicy("u", "round_robin", (Officer("a"), Officer("b"), Officer("c")))
        counts: dict[str, tuple[int, int]] = {}
        chosen = []
        for _ in range(6):
            who = policy.choose(counts, attributes={}).assignee
            assert who is not None
            chosen.append(who)
            counts[who] = (0, counts.get(who, (0, 0))[1] + 1)
        assert chosen == ["a", "b", "c", "a", "b", "c"]

    def test_skill_based(self) -> None:
        """Skill-based assigns among officers holding the skill; nobody if none does."""
        policy = AssignmentPolicy(
            "u", "skill", (Officer("a", {"jalan"}), Officer("b", {"air", "jalan"}))
        )
        counts = {"a": (3, 3)}
        assert policy.choose(counts, attributes={"category": "jalan"}).assignee == "b"
        assert policy.choose(counts, attributes={"category": "air"}).assignee == "b"
        none = policy.choose(counts, attributes={"category": "listrik"})
        assert none.assignee is None
        assert "listrik" in none.reason

    def test_manual_assigns_nobody(self) -> None:
        """Manual leaves the choice to the head of unit."""
        assert AssignmentPolicy("u").choose({}, attributes={}).assignee is None


class TestConfig:
    def test_example_file_loads(self) -> None:
        """The example routing file loads, with its delegations."""
        config = load_routing_config(ROOT / "examples" / "routing" / "pemkot.yaml")
        assert len(config.table) > 3
        assert len(config.delegations) >= 1
        assert config.disposition_roles

    def test_every_problem_reported(self, tmp_path: Path) -> None:
        """Problems are collected with file and key path; unquoted dotted codes explained."""
        path = tmp_path / "r.yaml"
        path.write_text(
            "triage: t\nrule: []\nrules:\n  - name: a\n    when: {region: 32.73}\n    unit: u\n"
            "  - when: {}\n    unit: v\nunits:\n  u: {strategy: random}\n"
        )
        with pytest.raises(ConfigurationError) as info:
            load_routing_config(path)
        text = str(info.value)
        assert "did you mean 'rules'" in text
        assert "quote codes" in text
        assert "rules[1].name" in text
        assert "units.u.strategy" in text
        assert text.startswith(str(path))

    def test_duplicate_rule_names(self) -> None:
        """Rule names identify decisions in the log, so they must be unique."""
        with pytest.raises(ConfigurationError, match="twice"):
            routing_config_from_dict({"rules": [{"name": "a", "unit": "u"}] * 2})


class TestStoreCounts:
    def test_assignee_counts(self, rdesk: ServiceDesk) -> None:
        """The store counts open and all requests per assignee in a unit."""
        first = submit_routed(rdesk)
        submit_routed(rdesk)
        assert rdesk.store.assignee_counts("dinas-pu") == {"pu-1": (1, 1), "pu-2": (1, 1)}
        rdesk.act(first, "reject", actor=Actor("v", {"verifier"}), justification="duplikat")
        assert rdesk.store.assignee_counts("dinas-pu") == {"pu-1": (0, 1), "pu-2": (1, 1)}
        assert rdesk.store.assignee_counts("nowhere") == {}
