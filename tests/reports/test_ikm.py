"""Tests for pelayanan.reports.ikm: rule sets, exact computation, CSV input."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pelayanan.exceptions import ReportError
from pelayanan.reports.ikm import (
    RULES_2004,
    RULES_2017,
    Band,
    IKMResult,
    RuleSet,
    Unsur,
    compute_ikm,
    read_survey_csv,
    round_half_up,
    rule_set,
)

KEYS_2017 = RULES_2017.keys
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "survey" / "skm-2026.csv"

#: One unsur only, so a survey can hit any converted score with a denominator we choose.
SINGLE = RuleSet(
    name="single",
    title="one-unsur test rules",
    source="test",
    unsur=(Unsur("layanan", "Layanan"),),
    bands=RULES_2017.bands,
)


def uniform(value: int, rules: RuleSet = RULES_2017) -> dict[str, int]:
    """Return a response that gives ``value`` to every unsur of ``rules``."""
    return dict.fromkeys(rules.keys, value)


def threes_and_fours(threes_per_unsur: list[int], respondents: int) -> list[dict[str, int]]:
    """Return responses where unsur i gets 3 from its first ``threes_per_unsur[i]`` people."""
    return [
        {key: 3 if r < threes_per_unsur[i] else 4 for i, key in enumerate(KEYS_2017)}
        for r in range(respondents)
    ]


#: 10 respondents: six unsur with five 3s (NRR 3.5), three unsur with four 3s (NRR 3.6).
#: Exact: (6 x 3.5 + 3 x 3.6) / 9 = 31.8 / 9 = 3.5333...; x 25 = 88.333... -> "88.33", A.
#: Rounded weight 0.111: 31.8 x 0.111 = 3.5298; x 25 = 88.245 -> "88.25", B.
EDGE_SURVEY = threes_and_fours([5, 5, 5, 5, 5, 5, 4, 4, 4], 10)


def single_unsur_survey(fours: int, threes: int, twos: int = 0) -> list[dict[str, int]]:
    """Return a one-unsur survey with the given counts of 4, 3 and 2 answers."""
    answers = [4] * fours + [3] * threes + [2] * twos
    return [{"layanan": a} for a in answers]


class TestRuleSets:
    """The versioned rule sets and their registry."""

    def test_2017_has_the_nine_unsur_in_the_regulations_order(self) -> None:
        """RULES_2017 lists the 9 unsur of PermenPANRB 14/2017 under stable keys."""
        assert KEYS_2017 == (
            "persyaratan",
            "prosedur",
            "waktu",
            "biaya",
            "produk",
            "kompetensi",
            "perilaku",
            "pengaduan",
            "sarana",
        )
        names = {u.key: u.name for u in RULES_2017.unsur}
        assert names["prosedur"] == "Sistem, Mekanisme, dan Prosedur"
        assert names["pengaduan"] == "Penanganan Pengaduan, Saran dan Masukan"

    def test_2017_bands_are_the_published_table(self) -> None:
        """The 2017 bands carry the published bounds on both scales, highest first."""
        assert [(b.mutu, b.kinerja, str(b.lower), str(b.upper)) for b in RULES_2017.bands] == [
            ("A", "Sangat Baik", "88.31", "100.00"),
            ("B", "Baik", "76.61", "88.30"),
            ("C", "Kurang Baik", "65.00", "76.60"),
            ("D", "Tidak Baik", "25.00", "64.99"),
        ]
        assert [(str(b.index_lower), str(b.index_upper)) for b in RULES_2017.bands] == [
            ("3.5324", "4.00"),
            ("3.0644", "3.532"),
            ("2.60", "3.064"),
            ("1.00", "2.5996"),
        ]

    def test_2004_has_fourteen_unsur_and_its_own_bands(self) -> None:
        """RULES_2004 holds the 14 unsur of KEP/25/M.PAN/2/2004 and its 25-100 bands."""
        assert len(RULES_2004.unsur) == 14
        assert len(set(RULES_2004.keys)) == 14
        assert RULES_2004.keys[0] == "prosedur"
        assert RULES_2004.keys[-1] == "keamanan"
        assert [(b.mutu, str(b.lower), str(b.upper)) for b in RULES_2004.bands] == [
            ("A", "81.26", "100.00"),
            ("B", "62.51", "81.25"),
            ("C", "43.76", "62.50"),
            ("D", "25.00", "43.75"),
        ]
        assert "[S]" in RULES_2004.source

    def test_registry_finds_both_sets(self) -> None:
        """rule_set() returns the set registered under "2017" and "2004"."""
        assert rule_set("2017") is RULES_2017
        assert rule_set("2004") is RULES_2004

    def test_registry_refuses_unknown_names(self) -> None:
        """An unknown rule-set name is a ReportError naming the choices."""
        with pytest.raises(ReportError, match=r"unknown IKM rule set '2010'; choose 2017 or 2004"):
            rule_set("2010")

    def test_extend_adds_unsur_after_the_regulations_ones(self) -> None:
        """extend() appends unsur, keeps the bands and names the new set."""
        extra = Unsur("kebersihan", "Kebersihan ruang tunggu")
        extended = RULES_2017.extend(extra)
        assert extended.keys == (*KEYS_2017, "kebersihan")
        assert extended.bands == RULES_2017.bands
        assert extended.name == "2017+kebersihan"
        assert RULES_2017.extend(extra, name="lokal").name == "lokal"

    def test_extend_refuses_a_repeated_key(self) -> None:
        """Adding an unsur whose key already exists is a ReportError."""
        with pytest.raises(ReportError, match="'biaya' appears twice"):
            RULES_2017.extend(Unsur("biaya", "Biaya lagi"))

    def test_keys_must_be_snake_case(self) -> None:
        """An unsur key that is not snake_case is refused."""
        with pytest.raises(ReportError, match="not snake_case"):
            Unsur("Waktu Layanan", "Waktu")

    def test_bands_must_be_adjacent_at_two_decimals(self) -> None:
        """A band table with a gap wider than 0.01 is refused: classification needs none."""
        bands = (
            Band("A", "Baik", Decimal("50.00"), Decimal("100.00"), Decimal(2), Decimal(4)),
            Band("B", "Buruk", Decimal("25.00"), Decimal("49.98"), Decimal(1), Decimal(2)),
        )
        with pytest.raises(ReportError, match="not adjacent"):
            attrs.evolve(RULES_2017, bands=bands)

    def test_rule_set_needs_unsur(self) -> None:
        """A rule set with no unsur is refused."""
        with pytest.raises(ReportError, match="at least one unsur"):
            attrs.evolve(RULES_2017, unsur=())


class TestRoundHalfUp:
    """Exact half-up rounding."""

    @pytest.mark.parametrize(
        ("value", "places", "expected"),
        [
            (Fraction("88.305"), 2, "88.31"),
            (Fraction("88.3049999"), 2, "88.30"),
            (Fraction(65), 2, "65.00"),
            (Fraction(1, 9), 3, "0.111"),
            (Fraction(5, 2), 0, "3"),
            (Fraction(-5, 2), 0, "-3"),
            (Fraction(100), 2, "100.00"),
        ],
    )
    def test_rounds_half_away_from_zero(self, value: Fraction, places: int, expected: str) -> None:
        """Halves round away from zero and the result keeps exactly ``places`` decimals."""
        assert str(round_half_up(value, places)) == expected


class TestClassify:
    """Classification of converted scores, including the gaps of the published table."""

    @pytest.mark.parametrize(
        ("score", "mutu"),
        [
            ("100", "A"),
            ("88.31", "A"),
            ("88.305", "A"),  # in the gap 88.30 | 88.31: rounds up to 88.31
            ("88.3049", "B"),  # rounds down to 88.30
            ("88.30", "B"),
            ("76.61", "B"),
            ("76.605", "B"),  # gap 76.60 | 76.61
            ("76.6049", "C"),
            ("76.60", "C"),
            ("65.0", "C"),
            ("64.995", "C"),  # gap 64.99 | 65.00: rounds up to 65.00
            ("64.9949", "D"),
            ("64.99", "D"),
            ("25", "D"),
        ],
    )
    def test_2017_gap_edges(self, score: str, mutu: str) -> None:
        """The score is rounded half-up to 2 decimals, then matched to a band."""
        assert RULES_2017.classify(Decimal(score)).mutu == mutu

    @pytest.mark.parametrize(
        ("score", "mutu"),
        [
            ("81.26", "A"),
            ("81.255", "A"),
            ("81.2549", "B"),
            ("62.505", "B"),
            ("62.50", "C"),
            ("43.755", "C"),
            ("43.75", "D"),
        ],
    )
    def test_2004_gap_edges(self, score: str, mutu: str) -> None:
        """The 2004 bands use the same rounding rule."""
        assert RULES_2004.classify(Decimal(score)).mutu == mutu

    def test_scores_outside_the_scale_take_the_nearest_band(self) -> None:
        """A rounded-weight score just below 25 is D; just above 100 is A."""
        assert RULES_2017.classify(Decimal("24.975")).mutu == "D"
        assert RULES_2017.classify(Decimal("100.8")).mutu == "A"

    def test_kinerja_labels(self) -> None:
        """Each grade carries its kinerja label."""
        labels = {b.mutu: b.kinerja for b in RULES_2017.bands}
        assert labels == {"A": "Sangat Baik", "B": "Baik", "C": "Kurang Baik", "D": "Tidak Baik"}


class TestComputePinned:
    """Figures computed by hand on small surveys."""

    def test_two_uniform_respondents(self) -> None:
        """One respondent all 4, one all 3.

        NRR per unsur = (4 + 3) / 2 = 3.5; IKM = 9 x (1/9 x 3.5) = 3.5;
        converted = 3.5 x 25 = 87.5 -> "87.50", B (76.61-88.30), Baik.
        """
        result = compute_ikm([uniform(4), uniform(3)])
        assert result.respondents == 2
        assert result.nrr == dict.fromkeys(KEYS_2017, Fraction(7, 2))
        assert result.index == Fraction(7, 2)
        assert result.converted == Fraction(175, 2)
        assert (result.ikm, result.mutu, result.kinerja) == ("87.50", "B", "Baik")

    def test_four_mixed_respondents(self) -> None:
        """Four respondents with a low persyaratan and a low sarana answer.

        r1 all 4; r2 all 3; r3 persyaratan 2, rest 3; r4 sarana 1, rest 4.
        persyaratan: (4+3+2+4)/4 = 13/4 = 3.25; sarana: (4+3+3+1)/4 = 11/4 = 2.75;
        the other 7 unsur: (4+3+3+4)/4 = 3.5.
        IKM = (3.25 + 2.75 + 7 x 3.5) / 9 = 30.5 / 9 = 61/18 = 3.38888...
        converted = 61/18 x 25 = 1525/18 = 84.7222... -> "84.72", B.
        """
        r3 = uniform(3) | {"persyaratan": 2}
        r4 = uniform(4) | {"sarana": 1}
        result = compute_ikm([uniform(4), uniform(3), r3, r4])
        assert result.nrr["persyaratan"] == Fraction(13, 4)
        assert result.nrr["sarana"] == Fraction(11, 4)
        assert result.nrr["waktu"] == Fraction(7, 2)
        scores = {u.key: u for u in result.unsur}
        assert scores["persyaratan"].nrr_text == "3.250"
        assert scores["sarana"].total == 11
        assert result.index == Fraction(61, 18)
        assert result.index_text == "3.3889"
        assert result.converted == Fraction(1525, 18)
        assert (result.ikm, result.mutu) == ("84.72", "B")

    def test_gap_edge_end_to_end(self) -> None:
        """A survey whose exact score lies in a table gap is classified by its rounding.

        One unsur, 5000 respondents: 2661 answer 4, 2339 answer 3.
        NRR = (4 x 2661 + 3 x 2339) / 5000 = 17661/5000 = 3.5322;
        converted = 88.305 exactly -> "88.31", A (not B).
        """
        result = compute_ikm(single_unsur_survey(2661, 2339), rules=SINGLE)
        assert result.converted == Fraction("88.305")
        assert (result.ikm, result.mutu) == ("88.31", "A")

    def test_lower_gap_edge_end_to_end(self) -> None:
        """64.995 is rounded to 65.00 and is C.

        One unsur, 5000 respondents: 2999 answer 3, 2001 answer 2.
        NRR = (8997 + 4002) / 5000 = 12999/5000 = 2.5998; x 25 = 64.995 -> "65.00", C.
        """
        result = compute_ikm(single_unsur_survey(0, 2999, 2001), rules=SINGLE)
        assert result.converted == Fraction("64.995")
        assert (result.ikm, result.mutu) == ("65.00", "C")

    def test_example_survey(self) -> None:
        """The shipped example: 30 respondents, answer total 866.

        IKM = 866 / (9 x 30) = 433/135 = 3.2074...; x 25 = 2165/27 = 80.185... -> "80.19", B.
        """
        result = compute_ikm(read_survey_csv(EXAMPLE))
        assert result.respondents == 30
        assert sum(u.total for u in result.unsur) == 866
        assert result.converted == Fraction(2165, 27)
        assert (result.ikm, result.mutu, result.kinerja) == ("80.19", "B", "Baik")


class TestRoundedWeight:
    """The published rounded-weight convention, only on request."""

    def test_exact_by_default(self) -> None:
        """Without options, every weight is exactly 1/9 and the result is not 'rounded'."""
        result = compute_ikm(EDGE_SURVEY)
        assert set(result.weights.values()) == {Fraction(1, 9)}
        assert result.rounded_weight is None
        assert result.to_json_dict()["weighting"] == "exact"

    def test_0_111_changes_the_category(self) -> None:
        """0.111 turns an A into a B.

        Exact: 31.8 / 9 x 25 = 88.333... -> "88.33", A.
        0.111: 31.8 x 0.111 x 25 = 88.245 -> "88.25", B.
        """
        exact = compute_ikm(EDGE_SURVEY)
        rounded = compute_ikm(EDGE_SURVEY, weight=Decimal("0.111"))
        assert (exact.ikm, exact.mutu) == ("88.33", "A")
        assert rounded.converted == Fraction("88.245")
        assert (rounded.ikm, rounded.mutu, rounded.kinerja) == ("88.25", "B", "Baik")
        assert rounded.rounded_weight == Decimal("0.111")
        assert rounded.to_json_dict()["weighting"] == "rounded"

    def test_0_11_is_accepted(self) -> None:
        """0.11 (two digits) is 1/9 rounded too: 31.8 x 0.11 x 25 = 87.45."""
        result = compute_ikm(EDGE_SURVEY, weight=Decimal("0.11"))
        assert result.ikm == "87.45"

    def test_all_ones_fall_below_25(self) -> None:
        """With 0.111 all-1 answers give 9 x 0.111 x 25 = 24.975 -> "24.98", still D."""
        result = compute_ikm([uniform(1)], weight=Decimal("0.111"))
        assert (result.ikm, result.mutu) == ("24.98", "D")

    @pytest.mark.parametrize("weight", ["0.2", "0.12", "0.112", "0.1112", "0", "-0.111"])
    def test_weight_other_than_1_over_n_rounded_is_refused(self, weight: str) -> None:
        """A weight that is not 1/n rounded or truncated to its decimals is refused."""
        with pytest.raises(ReportError, match=r"weight|positive"):
            compute_ikm(EDGE_SURVEY, weight=Decimal(weight))

    def test_weight_message_says_what_to_use(self) -> None:
        """The refusal names 1/n and a usable weight."""
        with pytest.raises(
            ReportError, match=r"not 1/9 rounded or truncated to 1 decimals.*use e\.g\. 0\.111"
        ):
            compute_ikm(EDGE_SURVEY, weight=Decimal("0.2"))

    def test_truncated_weight_is_accepted(self) -> None:
        """1/6 = 0.1666...: both 0.167 (rounded) and 0.166 (truncated) are accepted."""
        rules = attrs.evolve(RULES_2017, name="6", unsur=RULES_2017.unsur[:6])
        for weight in ("0.167", "0.166"):
            result = compute_ikm([uniform(4, rules)], rules=rules, weight=Decimal(weight))
            assert result.index == 24 * Fraction(Decimal(weight))

    def test_trailing_zeros_do_not_matter(self) -> None:
        """0.1110 is the same convention as 0.111."""
        result = compute_ikm(EDGE_SURVEY, weight=Decimal("0.1110"))
        assert result.ikm == "88.25"

    def test_non_finite_weight_is_refused(self) -> None:
        """NaN and infinity are not weights."""
        with pytest.raises(ReportError, match="positive decimal"):
            compute_ikm(EDGE_SURVEY, weight=Decimal("NaN"))

    def test_2004_rounded_weight(self) -> None:
        """2004 uses 1/14, published as 0.071: 3 x 14 x 0.071 x 25 = 74.55."""
        survey = [uniform(4, RULES_2004), uniform(2, RULES_2004)]
        result = compute_ikm(survey, rules=RULES_2004, weight=Decimal("0.071"))
        assert (result.ikm, result.mutu) == ("74.55", "B")


class TestCustomWeights:
    """Exact custom weights per unsur."""

    def test_custom_weights_are_applied(self) -> None:
        """persyaratan weighs 1/2, the 8 others 1/16 each.

        Answers: persyaratan 2, all others 4 (one respondent).
        IKM = 1/2 x 2 + 8 x 1/16 x 4 = 1 + 2 = 3; converted 75.00, C.
        """
        weights = dict.fromkeys(KEYS_2017, Fraction(1, 16)) | {"persyaratan": Fraction(1, 2)}
        result = compute_ikm([uniform(4) | {"persyaratan": 2}], weights=weights)
        assert result.index == 3
        assert (result.ikm, result.mutu) == ("75.00", "C")
        assert result.weights["persyaratan"] == Fraction(1, 2)

    def test_decimal_weights_are_exact(self) -> None:
        """Decimal weights are taken exactly: 0.2 + 0.1 x 8 = 1."""
        weights = dict.fromkeys(KEYS_2017, Decimal("0.1")) | {"biaya": Decimal("0.2")}
        result = compute_ikm([uniform(3)], weights=weights)
        assert result.index == 3

    def test_weights_must_sum_to_one(self) -> None:
        """Weights summing to 0.999 are refused with their sum."""
        weights = dict.fromkeys(KEYS_2017, Fraction(111, 1000))
        with pytest.raises(ReportError, match="sum to exactly 1, they sum to 999/1000"):
            compute_ikm([uniform(3)], weights=weights)

    def test_weights_must_name_every_unsur(self) -> None:
        """Missing and unknown keys are both named."""
        weights = dict.fromkeys(KEYS_2017[1:], Fraction(1, 8)) | {"parkir": Fraction(0)}
        with pytest.raises(ReportError, match="missing persyaratan; unknown parkir"):
            compute_ikm([uniform(3)], weights=weights)

    def test_negative_weights_are_refused(self) -> None:
        """A negative weight is refused even when the sum is 1."""
        weights = dict.fromkeys(KEYS_2017, Fraction(1, 8)) | {"biaya": Fraction(0)}
        weights["sarana"] = Fraction(-1, 8)
        weights["persyaratan"] = Fraction(3, 8)
        with pytest.raises(ReportError, match="must not be negative: sarana"):
            compute_ikm([uniform(3)], weights=weights)

    def test_non_finite_custom_weight_is_refused(self) -> None:
        """A NaN weight is a ReportError naming the unsur."""
        weights = dict.fromkeys(KEYS_2017, Decimal("0.125")) | {"biaya": Decimal("NaN")}
        with pytest.raises(ReportError, match="weight of biaya is Decimal"):
            compute_ikm([uniform(3)], weights=weights)

    def test_weight_and_weights_are_exclusive(self) -> None:
        """One rounded weight and a weight map cannot be combined."""
        with pytest.raises(ReportError, match="not both"):
            compute_ikm(
                [uniform(3)],
                weight=Decimal("0.111"),
                weights=dict.fromkeys(KEYS_2017, Fraction(1, 9)),
            )

    def test_extended_rules_use_equal_weights(self) -> None:
        """A tenth unsur makes every exact weight 1/10."""
        rules = RULES_2017.extend(Unsur("kebersihan", "Kebersihan"))
        result = compute_ikm([uniform(4, rules) | {"kebersihan": 1}], rules=rules)
        assert set(result.weights.values()) == {Fraction(1, 10)}
        # (9 x 4 + 1) / 10 = 3.7; x 25 = 92.50
        assert result.ikm == "92.50"


class TestRules2004:
    """The older rule set."""

    def test_same_answers_different_category(self) -> None:
        """NRR 3 everywhere: 75.00 is B under 2004 (62.51-81.25) but C under 2017.

        2004: 14 unsur, (4 + 2) / 2 = 3 each; IKM = 3; converted 75.00.
        """
        survey_2004 = [uniform(4, RULES_2004), uniform(2, RULES_2004)]
        result_2004 = compute_ikm(survey_2004, rules=RULES_2004)
        result_2017 = compute_ikm([uniform(4), uniform(2)])
        assert (result_2004.ikm, result_2004.mutu, result_2004.kinerja) == ("75.00", "B", "Baik")
        assert (result_2017.ikm, result_2017.mutu) == ("75.00", "C")
        assert set(result_2004.weights.values()) == {Fraction(1, 14)}

    def test_2004_responses_need_the_2004_keys(self) -> None:
        """A 2017 response does not fit the 2004 rules."""
        with pytest.raises(ReportError, match="response 1: no answer for kejelasan_petugas"):
            compute_ikm([uniform(3)], rules=RULES_2004)


class TestBadResponses:
    """Responses that cannot be computed."""

    def test_no_respondents(self) -> None:
        """An empty survey is refused."""
        with pytest.raises(ReportError, match="no respondents"):
            compute_ikm([])

    def test_missing_unsur(self) -> None:
        """A response without an unsur names the response and the unsur."""
        response = uniform(3)
        del response["biaya"]
        with pytest.raises(ReportError, match=r"response 2: no answer for biaya"):
            compute_ikm([uniform(3), response])

    def test_unknown_unsur(self) -> None:
        """A response with an extra key is refused."""
        with pytest.raises(ReportError, match=r"response 1: unknown unsur parkir"):
            compute_ikm([uniform(3) | {"parkir": 3}])

    @pytest.mark.parametrize("answer", [0, 5, -1, "3", 3.0, True, None])
    def test_answers_are_integers_1_to_4(self, answer: object) -> None:
        """Anything but an int 1-4 is refused, naming the unsur and the value."""
        response: dict[str, object] = dict(uniform(3))
        response["waktu"] = answer
        with pytest.raises(ReportError, match=r"response 1: waktu = .*; answers are integers 1-4"):
            compute_ikm([response])  # type: ignore[list-item]

    def test_responses_may_be_a_generator(self) -> None:
        """Responses are consumed once, so a generator works."""
        result = compute_ikm(uniform(v) for v in (4, 3))
        assert result.ikm == "87.50"


answer = st.integers(min_value=1, max_value=4)
response_2017 = st.fixed_dictionaries(dict.fromkeys(KEYS_2017, answer))
surveys = st.lists(response_2017, min_size=1, max_size=25)


class TestProperties:
    """Invariants over random surveys."""

    @settings(max_examples=60, deadline=None)
    @given(survey=surveys, data=st.data())
    def test_respondent_order_does_not_matter(
        self, survey: list[dict[str, int]], data: st.DataObject
    ) -> None:
        """Any permutation of the respondents gives the same result."""
        shuffled = data.draw(st.permutations(survey))
        assert compute_ikm(shuffled) == compute_ikm(survey)

    @settings(max_examples=60, deadline=None)
    @given(survey=surveys, data=st.data())
    def test_key_order_does_not_matter(
        self, survey: list[dict[str, int]], data: st.DataObject
    ) -> None:
        """Unsur are matched by key: the order of keys inside a response is irrelevant."""
        order = data.draw(st.permutations(KEYS_2017))
        reordered = [{k: r[k] for k in order} for r in survey]
        assert compute_ikm(reordered) == compute_ikm(survey)

    @settings(max_examples=100, deadline=None)
    @given(survey=surveys)
    def test_bounds_and_consistency(self, survey: list[dict[str, int]]) -> None:
        """Exact scores lie in 25-100, and mutu is the band of the published ikm string."""
        result = compute_ikm(survey)
        assert 1 <= result.index <= 4
        assert 25 <= result.converted <= 100
        assert Decimal("25.00") <= Decimal(result.ikm) <= Decimal("100.00")
        band = next(b for b in RULES_2017.bands if b.contains(Decimal(result.ikm)))
        assert (band.mutu, band.kinerja) == (result.mutu, result.kinerja)

    @settings(max_examples=60, deadline=None)
    @given(survey=surveys)
    def test_rounded_weight_is_0_999_of_exact(self, survey: list[dict[str, int]]) -> None:
        """9 x 0.111 = 0.999: the rounded convention scales the exact score by 0.999."""
        exact = compute_ikm(survey)
        rounded = compute_ikm(survey, weight=Decimal("0.111"))
        assert rounded.converted == exact.converted * Fraction(999, 1000)

    @settings(max_examples=40, deadline=None)
    @given(survey=surveys, data=st.data())
    def test_csv_column_order_does_not_matter(
        self, survey: list[dict[str, int]], data: st.DataObject
    ) -> None:
        """A CSV with its columns in any order reads to the same result."""
        order = data.draw(st.permutations(KEYS_2017))
        text = ",".join(order) + "\n"
        text += "".join(",".join(str(r[k]) for k in order) + "\n" for r in survey)
        assert compute_ikm(read_survey_csv(io.StringIO(text))) == compute_ikm(survey)


def _walk(value: object) -> list[object]:
    if isinstance(value, dict):
        return [v for item in value.values() for v in _walk(item)]
    if isinstance(value, list):
        return [v for item in value for v in _walk(item)]
    return [value]


class TestOutput:
    """The result's JSON and text forms."""

    def test_json_dict_has_the_contract_keys_and_no_floats(self) -> None:
        """JSON carries ikm, mutu, kinerja, respondents, rules, unsur; numbers are ints or str."""
        result = compute_ikm(EDGE_SURVEY)
        data = result.to_json_dict()
        assert {"ikm", "mutu", "kinerja", "respondents", "rules", "unsur"} <= data.keys()
        assert data["ikm"] == "88.33"
        assert data["ikm_exact"] == "265/3"
        assert data["index"] == "3.5333"
        assert data["respondents"] == 10
        assert data["rules"] == {
            "name": "2017",
            "title": "PermenPANRB 14/2017",
            "source": RULES_2017.source,
        }
        first = data["unsur"][0]  # type: ignore[index]
        assert first == {
            "key": "persyaratan",
            "name": "Persyaratan",
            "weight": "1/9",
            "total": 35,
            "nrr": "3.500",
            "nrr_exact": "7/2",
        }
        assert all(isinstance(v, (str, int)) for v in _walk(data))
        assert not any(isinstance(v, (float, bool)) for v in _walk(data))
        json.dumps(data)

    def test_json_shows_the_rounded_weight_as_given(self) -> None:
        """With the rounded convention each unsur shows weight "0.111"."""
        data = compute_ikm(EDGE_SURVEY, weight=Decimal("0.111")).to_json_dict()
        assert {u["weight"] for u in data["unsur"]} == {"0.111"}  # type: ignore[attr-defined]

    def test_render_text(self) -> None:
        """The text form leads with the score and category and lists every unsur."""
        text = compute_ikm(EDGE_SURVEY).render_text()
        lines = text.splitlines()
        assert lines[0] == "IKM 88.33  mutu A (Sangat Baik)"
        assert "10 respondents; exact weights" in lines[1]
        assert all(any(line.startswith(k) for line in lines) for k in KEYS_2017)
        assert lines[-1] == "index (1-4) 3.5333   converted (25-100) 88.33"

    def test_render_text_names_the_rounded_convention(self) -> None:
        """The text form says when the rounded weight was used."""
        text = compute_ikm(EDGE_SURVEY, weight=Decimal("0.111")).render_text()
        assert "rounded weight 0.111 (published convention)" in text

    def test_result_is_frozen(self) -> None:
        """IKMResult is an immutable value."""
        result = compute_ikm(EDGE_SURVEY)
        assert isinstance(result, IKMResult)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            result.ikm = "99.99"  # type: ignore[misc]


HEADER = ",".join(KEYS_2017)


def csv_text(*rows: str, header: str = HEADER) -> io.StringIO:
    """Return a named in-memory CSV stream."""
    stream = io.StringIO("\n".join([header, *rows]) + "\n")
    stream.name = "skm.csv"
    return stream


class TestReadSurveyCSV:
    """Reading paper surveys from CSV."""

    def test_reads_rows_by_header_key(self) -> None:
        """Columns are matched to unsur by the header, not by position."""
        header = ",".join(reversed(KEYS_2017))
        responses = read_survey_csv(csv_text("1,2,3,4,4,3,2,1,4", header=header))
        assert responses == [
            dict(zip(reversed(KEYS_2017), [1, 2, 3, 4, 4, 3, 2, 1, 4], strict=True))
        ]

    def test_reads_a_path(self, tmp_path: Path) -> None:
        """A path is read as UTF-8, with a byte-order mark ignored."""
        path = tmp_path / "skm.csv"
        path.write_text("\ufeff" + HEADER + "\n" + "3," * 8 + "4\n", encoding="utf-8")
        assert read_survey_csv(path) == [uniform(3) | {"sarana": 4}]
        assert read_survey_csv(str(path)) == read_survey_csv(path)

    def test_semicolons_blank_lines_case_and_spaces(self) -> None:
        """Excel's semicolon CSV, blank lines, header case and spaces are tolerated."""
        header = "; ".join(k.upper() for k in KEYS_2017)
        stream = csv_text("", "4;4;4;4;4;4;4;4;4", "", " 3 ;3;3;3;3;3;3;3;3", header=header)
        assert read_survey_csv(stream) == [uniform(4), uniform(3)]

    def test_2004_header(self) -> None:
        """With the 2004 rules the header names the 14 unsur of 2004."""
        stream = csv_text(",".join(["3"] * 14), header=",".join(RULES_2004.keys))
        assert read_survey_csv(stream, rules=RULES_2004) == [uniform(3, RULES_2004)]

    @pytest.mark.parametrize(
        ("row", "message"),
        [
            (
                "3,3,5,3,3,3,3,3,3",
                "skm.csv:3: column 3 (waktu): 5 is outside 1-4; write the answer 1, 2, 3 or 4",
            ),
            (
                "3,3,3,0,3,3,3,3,3",
                "skm.csv:3: column 4 (biaya): 0 is outside 1-4; write the answer 1, 2, 3 or 4",
            ),
            (
                "3.5,3,3,3,3,3,3,3,3",
                (
                    "skm.csv:3: column 1 (persyaratan): '3.5' is not an integer; "
                    "write the answer 1, 2, 3 or 4"
                ),
            ),
            (
                "3,tiga,3,3,3,3,3,3,3",
                (
                    "skm.csv:3: column 2 (prosedur): 'tiga' is not an integer; "
                    "write the answer 1, 2, 3 or 4"
                ),
            ),
            (
                "3,3,3,3,3,3,3,3, ",
                (
                    "skm.csv:3: column 9 (sarana): empty is not an integer; "
                    "write the answer 1, 2, 3 or 4"
                ),
            ),
            (
                "3,3,3,3,3,3,3,-1,3",
                (
                    "skm.csv:3: column 8 (pengaduan): '-1' is not an integer; "
                    "write the answer 1, 2, 3 or 4"
                ),
            ),
            (
                "3,3,3,3,3,3,3,3",
                (
                    "skm.csv:3: the row has 8 values but the header has 9 columns; "
                    "write one answer per unsur column"
                ),
            ),
            (
                "3,3,3,3,3,3,3,3,3,3",
                (
                    "skm.csv:3: the row has 10 values but the header has 9 columns; "
                    "write one answer per unsur column"
                ),
            ),
        ],
    )
    def test_bad_rows(self, row: str, message: str) -> None:
        """A bad cell or row names the file, line and column and what to write."""
        with pytest.raises(ReportError) as caught:
            read_survey_csv(csv_text("4,4,4,4,4,4,4,4,4", row))
        assert str(caught.value) == message

    def test_missing_column(self) -> None:
        """A header without an unsur names the missing one."""
        header = ",".join(KEYS_2017[:-1])
        with pytest.raises(ReportError) as caught:
            read_survey_csv(csv_text("3,3,3,3,3,3,3,3", header=header))
        assert str(caught.value) == (
            "skm.csv:1: missing unsur column sarana; the header names every unsur of rules 2017"
        )

    def test_unknown_column(self) -> None:
        """An unknown header names the column and lists the valid keys."""
        header = HEADER + ",parkir"
        with pytest.raises(ReportError) as caught:
            read_survey_csv(csv_text("3,3,3,3,3,3,3,3,3,3", header=header))
        assert str(caught.value) == (
            "skm.csv:1: column 10 (parkir): unknown unsur for rules 2017; "
            f"the columns are {', '.join(KEYS_2017)} (or U1-U9 in that order)"
        )

    def test_unknown_column_under_2004(self) -> None:
        """A 2017 header read with the 2004 rules fails on its first foreign column."""
        with pytest.raises(ReportError, match=r"column 3 \(waktu\): unknown unsur for rules 2004"):
            read_survey_csv(csv_text("3,3,3,3,3,3,3,3,3"), rules=RULES_2004)

    def test_duplicate_column(self) -> None:
        """A repeated header names both columns."""
        header = HEADER + ",biaya"
        with pytest.raises(ReportError) as caught:
            read_survey_csv(csv_text("3,3,3,3,3,3,3,3,3,3", header=header))
        assert str(caught.value) == (
            "skm.csv:1: column 10 (biaya): duplicate column, also column 4; "
            "keep one column per unsur"
        )

    def test_empty_header_cell(self) -> None:
        """An empty header cell is an unknown column shown as <empty>."""
        with pytest.raises(ReportError, match=r"column 10 \(<empty>\): unknown unsur"):
            read_survey_csv(csv_text("3,3,3,3,3,3,3,3,3,", header=HEADER + ","))

    def test_header_only(self) -> None:
        """A header without rows is an empty survey."""
        with pytest.raises(ReportError) as caught:
            read_survey_csv(csv_text())
        assert str(caught.value) == (
            "skm.csv: no respondents; add one row of answers per respondent under the header"
        )

    def test_empty_file(self) -> None:
        """A file with nothing in it asks for the header."""
        stream = io.StringIO("\n\n")
        stream.name = "kosong.csv"
        with pytest.raises(ReportError, match=r"kosong\.csv:1: no header row; .*persyaratan"):
            read_survey_csv(stream)

    def test_line_numbers_count_blank_lines(self) -> None:
        """Blank lines are skipped but still counted in the line number."""
        with pytest.raises(ReportError, match=r"^skm\.csv:5: column 1"):
            read_survey_csv(csv_text("4,4,4,4,4,4,4,4,4", "", "", "9,4,4,4,4,4,4,4,4"))

    def test_unnamed_stream(self) -> None:
        """A stream without a name is called <stream>."""
        with pytest.raises(ReportError, match=r"^<stream>: no respondents"):
            read_survey_csv(io.StringIO(HEADER + "\n"))

    def test_missing_file(self, tmp_path: Path) -> None:
        """A path that does not exist is a ReportError naming it."""
        path = tmp_path / "tidak-ada.csv"
        with pytest.raises(ReportError, match=r"tidak-ada\.csv: cannot read the file"):
            read_survey_csv(path)

    def test_not_utf8(self, tmp_path: Path) -> None:
        """A file in another encoding asks for CSV UTF-8."""
        path = tmp_path / "latin.csv"
        path.write_bytes(HEADER.encode() + b"\n\xff\xfe\n")
        with pytest.raises(ReportError, match="not UTF-8 text; save the survey as CSV UTF-8"):
            read_survey_csv(path)

    def test_malformed_csv(self) -> None:
        """A CSV the csv module rejects (a field over its size limit) names its line."""
        stream = csv_text("4,4,4,4,4,4,4,4,4", "3" * 200_000)
        with pytest.raises(ReportError, match=r"^skm\.csv:3: malformed CSV: field larger"):
            read_survey_csv(stream)


class TestRegulationColumns:
    def test_u_columns_name_the_2017_unsur_in_order(self) -> None:
        """U1-U9, as the regulation's processing table heads them, read as the 2017 keys."""
        header = ",".join(f"U{n}" for n in range(9, 0, -1))
        by_u = read_survey_csv(csv_text("4,3,3,3,3,3,3,3,1", header=header))
        by_key = read_survey_csv(
            csv_text("1,3,3,3,3,3,3,3,4", header=",".join(KEYS_2017)),
        )
        assert by_u == by_key
        assert by_u[0]["persyaratan"] == 1
        assert by_u[0]["sarana"] == 4

    def test_u_columns_name_the_2004_unsur_in_order(self) -> None:
        """U1-U14 read as the fourteen 2004 keys in regulation order."""
        header = ",".join(f"u{n}" for n in range(1, 15))
        rows = read_survey_csv(
            csv_text(",".join(str(1 + n % 4) for n in range(14)), header=header), rules=RULES_2004
        )
        assert list(rows[0]) == list(RULES_2004.keys)
        assert rows[0]["prosedur"] == 1
        assert rows[0]["keamanan"] == 2

    def test_u_column_past_the_set_is_unknown(self) -> None:
        """U10 under the nine 2017 unsur is an unknown column."""
        header = ",".join(KEYS_2017) + ",U10"
        with pytest.raises(ReportError, match=r"column 10 \(u10\): unknown unsur"):
            read_survey_csv(csv_text("3,3,3,3,3,3,3,3,3,3", header=header))

    def test_u_column_and_key_for_the_same_unsur_is_a_duplicate(self) -> None:
        """A header naming an unsur by key and by U-number names both columns."""
        header = ",".join(KEYS_2017) + ",U4"
        with pytest.raises(ReportError) as caught:
            read_survey_csv(csv_text("3,3,3,3,3,3,3,3,3,3", header=header))
        assert str(caught.value) == (
            "skm.csv:1: column 10 (u4 = biaya): duplicate column, also column 4; "
            "keep one column per unsur"
        )
