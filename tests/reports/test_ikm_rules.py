"""Tests for IKM rule sets read from a file (pelayanan.reports.ikm_rules, `report ikm --rules`)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from pelayanan.cli._report_ikm import ikm_command
from pelayanan.exceptions import ConfigurationError, IKMRulesError, ReportError
from pelayanan.reports.ikm import RULES_2017, compute_ikm
from pelayanan.reports.ikm_rules import load_rules, rules_from_mapping

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_RULES = ROOT / "examples" / "survey" / "rules-dinas-2026.yaml"
EXAMPLE_CSV = ROOT / "examples" / "survey" / "skm-2026.csv"


def equal_rules(weight: str) -> dict[str, object]:
    """Return a rules document with the 2017 unsur, each weighted *weight*."""
    return {
        "name": "custom",
        "unsur": [{"key": u.key, "name": u.name, "weight": weight} for u in RULES_2017.unsur],
    }


class TestRulesFromMapping:
    """Reading a rules document."""

    def test_example_file(self) -> None:
        """The example file keeps the 2017 bands and its exact weights."""
        rules = load_rules(EXAMPLE_RULES)
        assert rules.name == "dinas-lh-2026"
        assert rules.bands == RULES_2017.bands
        assert rules.weights is not None
        assert dict(zip(rules.keys, rules.weights, strict=True))["waktu"] == Fraction(1, 5)

    def test_weights_apply_by_default(self) -> None:
        """compute_ikm uses the rule set's weights when no others are given."""
        rules = rules_from_mapping(
            {
                "name": "dua",
                "unsur": [
                    {"key": "a", "name": "A", "weight": "0.75"},
                    {"key": "b", "name": "B", "weight": "1/4"},
                ],
            }
        )
        result = compute_ikm([{"a": 4, "b": 0 + 2}], rules=rules)
        assert result.index == Fraction(7, 2)

    def test_no_weights_means_equal(self) -> None:
        """Without weights the unsur weigh 1/n each."""
        rules = rules_from_mapping({"name": "x", "unsur": [{"key": "a", "name": "A"}]})
        assert rules.weights is None
        assert compute_ikm([{"a": 3}], rules=rules).index == 3

    @given(st.lists(st.lists(st.integers(1, 4), min_size=9, max_size=9), min_size=1, max_size=8))
    def test_equal_fraction_weights_match_the_regulation(self, answers: list[list[int]]) -> None:
        """A file giving every 2017 unsur the weight 1/9 scores exactly like the 2017 set."""
        rules = rules_from_mapping(equal_rules("1/9"))
        responses = [dict(zip(RULES_2017.keys, row, strict=True)) for row in answers]
        custom = compute_ikm(responses, rules=rules)
        regulation = compute_ikm(responses, rules=RULES_2017)
        assert (custom.converted, custom.ikm, custom.mutu) == (
            regulation.converted,
            regulation.ikm,
            regulation.mutu,
        )

    def test_custom_bands(self) -> None:
        """Adjacent bands replace the base's; the 1-4 bounds are the 25-100 ones / 25."""
        rules = rules_from_mapping(
            {
                "name": "x",
                "unsur": [{"key": "a", "name": "A"}],
                "bands": [
                    {"mutu": "B", "kinerja": "Cukup", "lower": "25.00", "upper": "74.99"},
                    {"mutu": "A", "kinerja": "Baik", "lower": "75.00", "upper": "100.00"},
                ],
            }
        )
        assert [b.mutu for b in rules.bands] == ["A", "B"]
        assert str(rules.bands[0].index_lower) == "3.00"
        assert compute_ikm([{"a": 3}], rules=rules).mutu == "A"


class TestProblems:
    """Every problem of a rules document, each with its key path."""

    def problems(self, document: object) -> list[str]:
        """Return the rendered problems of *document*."""
        with pytest.raises(IKMRulesError) as caught:
            rules_from_mapping(document)  # type: ignore[arg-type]
        assert isinstance(caught.value, ConfigurationError)
        assert isinstance(caught.value, ReportError)
        return [p.render() for p in caught.value.problems]

    def test_weights_must_sum_to_one(self) -> None:
        """Weights summing to 0.999 (the rounded convention) are refused with their sum."""
        assert self.problems(equal_rules("0.111")) == [
            "unsur: the weights must sum to exactly 1; they sum to 999/1000"
        ]

    def test_all_or_no_weights(self) -> None:
        """Weighting some unsur only is refused."""
        document = {
            "name": "x",
            "unsur": [{"key": "a", "name": "A", "weight": "1"}, {"key": "b", "name": "B"}],
        }
        assert self.problems(document) == [
            "unsur: give a weight to every unsur, or to none (equal weights 1/n)"
        ]

    def test_regulation_names_are_reserved(self) -> None:
        """A custom set cannot take the name 2017 (survey entries are matched by name)."""
        document = equal_rules("1/9") | {"name": "2017"}
        assert self.problems(document)[0].startswith("name: '2017' names the regulation's")

    def test_many_problems_at_once(self) -> None:
        """Bad keys, duplicate keys, unknown fields and gaps between bands all show."""
        found = self.problems(
            {
                "name": "x",
                "colour": "red",
                "unsur": [
                    {"key": "A b", "name": "A"},
                    {"key": "c", "name": "C"},
                    {"key": "c", "name": "C"},
                ],
                "bands": [
                    {"mutu": "A", "kinerja": "Baik", "lower": "80.00", "upper": "100.00"},
                    {"mutu": "B", "kinerja": "Buruk", "lower": "25.00", "upper": "79.98"},
                    {"mutu": "C", "kinerja": "x", "lower": "50.001", "upper": "60"},
                ],
            }
        )
        assert any(p.startswith("colour: unknown key") for p in found)
        assert any(p.startswith("unsur[0].key:") for p in found)
        assert "unsur[2].key: unsur 'c' appears twice; give each its own key" in found
        assert any(p.startswith("bands[0].lower: band A starts at 80.00") for p in found)
        assert any(p.startswith("bands[2].lower: a bound is a score 0-100") for p in found)

    def test_file_errors_name_file_and_line(self, tmp_path: Path) -> None:
        """A file's problems carry FILE:LINE."""
        path = tmp_path / "rules.yaml"
        path.write_text('name: x\nunsur:\n  - {key: a, name: A, weight: "2/0"}\n', encoding="utf-8")
        with pytest.raises(IKMRulesError) as caught:
            load_rules(path)
        assert caught.value.problems[0].render().startswith(f"{path}:3: unsur[0].weight:")

    def test_too_many_unsur(self) -> None:
        """A hostile file listing thousands of unsur is refused before reading them."""
        document = {"name": "x", "unsur": [{"key": f"u{i}", "name": "U"} for i in range(5000)]}
        assert self.problems(document) == ["unsur: 5000 unsur; a survey has at most 50"]


class TestCommand:
    """`pelayanan report ikm --rules FILE`."""

    def test_rules_file(self) -> None:
        """The file's name, weights and result are reported."""
        result = CliRunner().invoke(
            ikm_command, [str(EXAMPLE_CSV), "--rules", str(EXAMPLE_RULES), "--format", "json"]
        )
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert data["rules"]["name"] == "dinas-lh-2026"
        assert {u["key"]: u["weight"] for u in data["unsur"]}["waktu"] == "1/5"
        assert (data["ikm"], data["mutu"]) == ("79.33", "B")

    def test_bad_rules_file(self, tmp_path: Path) -> None:
        """A bad file exits 2 with one FILE:LINE line per problem, no traceback."""
        path = tmp_path / "rules.yaml"
        path.write_text("name: x\nunsur: []\n", encoding="utf-8")
        result = CliRunner().invoke(ikm_command, [str(EXAMPLE_CSV), "--rules", str(path)])
        assert result.exit_code == 2
        assert result.output == f"error: {path}:2: unsur: list at least one unsur\n"
