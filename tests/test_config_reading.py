"""One way to read configuration: the problems collector, the readers, and every loader."""

from __future__ import annotations

import datetime as dt
import pickle
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pelayanan._config import (
    Problems,
    parse_document,
    read_bool,
    read_config_file,
    read_date,
    read_decimal,
    read_duration,
    read_instant,
    read_list,
    read_mapping,
    read_name,
    read_names,
    read_percent,
    read_text,
)
from pelayanan.access import access_config_from_dict
from pelayanan.calendar import Duration, calendar_from_config
from pelayanan.exceptions import (
    CalendarError,
    ConfigurationError,
    Problem,
    QualityConfigError,
    ReportError,
    SOPDefinitionError,
)
from pelayanan.reports.quality import QualityConfig
from pelayanan.routing import load_routing_config
from pelayanan.sla import clock_defs_from_config
from pelayanan.sop import load_sop, sop_from_dict

CLOCK: dict[str, Any] = {
    "name": "verification",
    "start": {"on_action": "submit"},
    "stop": {"on_enter": ["done"]},
    "pause": {"on_enter": ["checked"]},
    "resume": {"on_action": ["check"]},
    "target": "3 working days",
    "warn_at": [50, 75],
    "escalation": [
        {"after": "100%", "notify": "head"},
        {"after": {"percent": 150}, "reassign_to": "head"},
        {"after": {"working_hours": 4}, "notify": ["head", "unit:x"]},
    ],
    "label": "Verifikasi",
}


def sop_document(clocks: list[Any]) -> dict[str, Any]:
    """Return a small valid SOP document with *clocks*."""
    return {
        "id": "contoh",
        "version": "1",
        "title": "Contoh",
        "unit": "unit-a",
        "roles": {"citizen": "warga", "officer": "petugas", "head": "kepala"},
        "submit": {"roles": ["citizen"]},
        "initial": "open",
        "states": {"open": {}, "checked": {}, "done": {"final": True}},
        "actions": [
            {"name": "check", "from": "open", "to": "checked", "roles": ["officer"]},
            {"name": "finish", "from": "checked", "to": "done", "roles": "head"},
        ],
        "clocks": clocks,
    }


def rendered(error: ConfigurationError) -> list[str]:
    """Return the rendered problems of *error*, one line each."""
    return [p.render() for p in error.problems]


class TestProblems:
    def test_renders_with_and_without_a_file(self) -> None:
        """A problem renders FILE:LINE: key.path: message with a file, key.path: message without."""
        assert Problem("a.b", "wrong", "f.yaml", 3).render() == "f.yaml:3: a.b: wrong"
        assert Problem("a.b", "wrong", "f.yaml").render() == "f.yaml:0: a.b: wrong"
        assert Problem("", "wrong", "f.yaml", 1).render() == "f.yaml:1: $: wrong"
        assert Problem("a.b", "wrong").render() == "a.b: wrong"
        assert Problem("", "wrong").render() == "wrong"

    def test_lines_fall_back_to_the_enclosing_key(self) -> None:
        """A path without a line of its own takes the line of its nearest enclosing key."""
        problems = Problems(source="f.yaml", lines={"rules": 2, "rules[1]": 5})
        problems.add("rules[1].when.region", "bad")
        problems.add("rules[7]", "bad")
        problems.add("other", "bad")
        assert [p.line for p in problems.items] == [5, 2, None]

    def test_check_raises_every_problem_as_the_given_error(self) -> None:
        """Every collected problem is raised at once, as the loader's own error type."""
        problems = Problems()
        problems.check()
        problems.add("a", "one")
        problems.add("b", "two")
        with pytest.raises(CalendarError) as caught:
            problems.check(CalendarError)
        assert str(caught.value) == "a: one\nb: two"
        assert len(caught.value.problems) == 2

    def test_unknown_keys_get_a_did_you_mean(self) -> None:
        """An unknown key is named with the closest known key and the known keys."""
        problems = Problems()
        problems.unknown({"rulez": 1, "units": 2, "zzz": 3}, ("rules", "units"), "x")
        assert rendered_messages(problems) == [
            "x.rulez: unknown key 'rulez'; did you mean 'rules'? (known: rules, units)",
            "x.zzz: unknown key 'zzz' (known: rules, units)",
        ]

    def test_absorbs_path_prefixed_messages(self) -> None:
        """An error whose message starts with a key path under the read path keeps that path."""
        problems = Problems()
        problems.absorb(CalendarError("hours.friday[0]: end before start"), "hours.friday")
        problems.absorb(ConfigurationError([Problem("kind", "bad")]), "access.delegations[0]")
        problems.absorb(ConfigurationError("plain words: no path"), "x")
        assert rendered_messages(problems) == [
            "hours.friday[0]: end before start",
            "access.delegations[0].kind: bad",
            "x: plain words: no path",
        ]

    def test_a_message_is_one_problem(self) -> None:
        """A ConfigurationError built from a message keeps it and holds it as one problem."""
        error = ConfigurationError("timezone: unknown")
        assert str(error) == "timezone: unknown"
        assert error.problems == (Problem("", "timezone: unknown"),)
        assert str(pickle.loads(pickle.dumps(error))) == "timezone: unknown"


def rendered_messages(problems: Problems) -> list[str]:
    """Return the collected problems rendered."""
    return [p.render() for p in problems.items]


class TestReaders:
    @pytest.mark.parametrize(
        ("reader", "good", "expected", "bad"),
        [
            (read_mapping, {"a": 1}, {"a": 1}, [1]),
            (read_list, [1], [1], {"a": 1}),
            (read_text, "x", "x", 3),
            (read_bool, False, False, "no"),
            (read_name, "verify_2", "verify_2", "Verify"),
            (read_names, "a", ("a",), ["a", 3]),
            (read_percent, "150%", 150, "0%"),
            (read_decimal, "0.25", Decimal("0.25"), 0.25),
            (read_date, "2026-07-06", dt.date(2026, 7, 6), "2026-02-30"),
            (
                read_instant,
                "2026-07-06T00:00:00+07:00",
                dt.datetime(2026, 7, 6, tzinfo=dt.timezone(dt.timedelta(hours=7))),
                "2026-07-06T00:00:00",
            ),
            (read_duration, {"working_days": 3}, Duration.working_days(3), {"weeks": 1}),
        ],
    )
    def test_reader_accepts_and_records(
        self, reader: Any, good: object, expected: object, bad: object
    ) -> None:
        """Each reader returns the value read, or None with one problem at the path."""
        problems = Problems()
        assert reader(good, "k", problems) == expected
        assert not problems
        assert reader(bad, "k", problems) is None
        assert len(problems) == 1
        assert problems.items[0].path.startswith("k")

    def test_percent_in_both_spellings(self) -> None:
        """A percentage is written '150%' or {percent: 150}, a whole number in range."""
        problems = Problems()
        assert read_percent({"percent": 150}, "p", problems) == 150
        assert read_percent(" 75 % ", "p", problems) == 75
        assert read_percent(100, "p", problems, high=99) is None
        assert read_percent(True, "p", problems) is None
        assert len(problems) == 2

    def test_blank_text_when_required(self) -> None:
        """Required text must not be blank."""
        problems = Problems()
        assert read_text("  ", "t", problems, required=True) is None
        assert rendered_messages(problems) == ["t: must not be empty"]

    @given(
        st.one_of(
            st.text(max_size=20),
            st.sampled_from(["3 working days", "1.5 working hours", "2 calendar days", "x"]),
            st.dictionaries(
                st.sampled_from(["working_days", "working_hours", "calendar_days", "weeks"]),
                st.one_of(st.integers(-3, 10), st.floats(allow_nan=True), st.text(max_size=3)),
                max_size=2,
            ),
            st.integers(),
            st.none(),
        )
    )
    def test_durations_accept_what_duration_accepts(self, value: object) -> None:
        """The duration reader accepts exactly the inputs `Duration.from_config` accepts."""
        problems = Problems()
        read = read_duration(value, "d", problems)
        try:
            expected: Duration | None = Duration.from_config(value, path="d")
        except (CalendarError, TypeError, ValueError, OverflowError):
            expected = None
        assert read == expected
        assert bool(problems) == (expected is None)


class TestLoaders:
    def test_routing_file_reports_every_problem_on_its_line(self, tmp_path: Path) -> None:
        """A routing file's problems, nested access ones included, name file, line and path."""
        path = tmp_path / "routing.yaml"
        path.write_text(
            "triage: t\n"
            "rulez: []\n"
            "units:\n"
            "  u: {strategy: round-robin}\n"
            "access:\n"
            "  delegations:\n"
            "    - id: D1\n"
            "      kind: acting\n"
            "      principal: a\n"
            "      delegate: b\n"
            "      roles: [r]\n"
            "      valid_from: '2026-07-06T00:00:00'\n"
            "      valid_until: '2026-07-08T00:00:00+07:00'\n",
            encoding="utf-8",
        )
        with pytest.raises(ConfigurationError) as caught:
            load_routing_config(path)
        lines = rendered(caught.value)
        assert f"{path}:2: rulez: unknown key 'rulez'; did you mean 'rules'?" in lines[0]
        assert lines[1] == (
            f"{path}:4: units.u.strategy: must be one of manual, round_robin, least_loaded, "
            "skill; did you mean 'round_robin'?"
        )
        assert lines[2] == f"{path}:8: access.delegations[0].kind: must be 'plt' or 'plh'"
        assert lines[3].startswith(f"{path}:12: access.delegations[0].valid_from: needs a UTC")
        assert str(caught.value).splitlines() == lines

    def test_access_reports_every_problem(self) -> None:
        """Access configuration problems come all at once, with did-you-mean hints."""
        with pytest.raises(ConfigurationError) as caught:
            access_config_from_dict(
                {"delegation": [], "separation": [{"not_subjet": "nip"}, 3]}, source="a.yaml"
            )
        assert rendered(caught.value) == [
            (
                "a.yaml:0: delegation: unknown key 'delegation'; did you mean 'delegations'? "
                "(known: cross_unit_roles, delegations, separation)"
            ),
            (
                "a.yaml:0: separation[0].not_subjet: unknown key 'not_subjet'; did you mean "
                "'not_subject'? (known: sop, action, not_subject)"
            ),
            "a.yaml:0: separation[0].not_subject: name the field holding the subject",
            "a.yaml:0: separation[1]: expected a mapping, got int",
        ]

    def test_calendar_reports_every_problem(self) -> None:
        """A calendar with several mistakes reports them all, each with its key path."""
        with pytest.raises(CalendarError) as caught:
            calendar_from_config(
                {
                    "hours": {"friday": ["16:30-07:30"], "funday": []},
                    "strict": "yes",
                    "closures": ["2026-02-30"],
                    "counting": "receipt-day-on",
                }
            )
        lines = rendered(caught.value)
        assert lines[0].startswith("hours.funday: unknown key 'funday'; did you mean 'sunday'?")
        assert lines[1:4] == [
            "hours.friday[0]: end before start",
            "strict: expected true or false, got 'yes'",
            "closures[0]: expected a date YYYY-MM-DD, got '2026-02-30'",
        ]
        assert "did you mean 'receipt-day-one'?" in lines[4]

    def test_calendar_file_problems_have_lines(self, tmp_path: Path) -> None:
        """A calendar read from a file places its problems on their lines."""
        path = tmp_path / "cal.yaml"
        path.write_text("name: x\nstrict: 1\ncounting: nope\n", encoding="utf-8")
        data, lines = read_config_file(path)
        with pytest.raises(CalendarError) as caught:
            calendar_from_config(data, source=str(path), lines=lines)
        assert [p.line for p in caught.value.problems] == [2, 3]
        assert rendered(caught.value)[0] == f"{path}:2: strict: expected true or false, got 1"

    def test_calendar_round_trip(self) -> None:
        """A calendar read from its own configuration is the same calendar."""
        calendar = calendar_from_config({"name": "wita", "timezone": "Asia/Makassar"})
        assert calendar_from_config(calendar.to_config()) == calendar

    def test_quality_reports_every_problem(self) -> None:
        """Quality weights: every problem at once, as a ConfigurationError and a ReportError."""
        with pytest.raises(QualityConfigError) as caught:
            QualityConfig.from_mapping(
                {"weights": {"ikm": "0.5", "sla_complience": "0.25", "closure_rate": "-1"}}
            )
        assert isinstance(caught.value, ReportError)
        lines = rendered(caught.value)
        assert lines[0] == "version: expected text, got None"
        assert "weights.sla_complience: unknown quality component" in lines[1]
        assert "did you mean 'sla_compliance'?" in lines[1]
        assert lines[2].startswith("weights.closure_rate: the weight of 'closure_rate'")
        assert lines[3] == "weights: quality weights must sum to exactly 1; they sum to -0.25"

    def test_quality_round_trip(self) -> None:
        """A quality configuration reads back from its JSON form."""
        config = QualityConfig.from_mapping(
            {"version": "v", "weights": {"ikm": "0.5", "closure_rate": "0.5"}}
        )
        document = config.to_json_dict()
        assert QualityConfig.from_mapping(document) == config


class TestClocksOneReader:
    def test_the_sop_and_the_sla_engine_read_clocks_alike(self) -> None:
        """An SOP's clocks and the same section read on its own are equal."""
        sop = sop_from_dict(sop_document([CLOCK]))
        assert sop.clocks == clock_defs_from_config([CLOCK])
        (clock,) = sop.clocks
        assert clock.escalation[2].after == Duration.working_hours(4)
        assert clock.label == "Verifikasi"

    def test_sop_file_clock_problems_on_their_lines(self, tmp_path: Path) -> None:
        """Clock problems in an SOP file render FILE:LINE: key.path: message, all of them."""
        bad = {**CLOCK, "target": {"working_weeks": 1}, "warn_at": [75, 50], "labels": 1}
        path = tmp_path / "contoh.yaml"
        path.write_text(yaml.safe_dump(sop_document([bad]), sort_keys=False), encoding="utf-8")
        text = path.read_text(encoding="utf-8").splitlines()
        with pytest.raises(SOPDefinitionError) as caught:
            load_sop(path)
        by_path = {p.path: p for p in caught.value.problems}
        assert {
            "clocks[0].labels",
            "clocks[0].target.working_weeks",
            "clocks[0].warn_at",
        } <= set(by_path)
        labels = by_path["clocks[0].labels"]
        assert labels.line is not None
        assert text[labels.line - 1].strip().startswith("labels:")
        assert labels.render().startswith(
            f"{path}:{labels.line}: clocks[0].labels: unknown key 'labels'; did you mean 'label'?"
        )


def _laughs(depth: int) -> str:
    """Return a billion-laughs YAML document under ``routing:`` with 9**(depth + 1) leaves."""
    lines = [
        "routing:",
        '  a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
    ]
    lines += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, depth + 1)]
    return "\n".join(lines) + "\n"


class TestSafeYaml:
    def test_billion_laughs_refused_naming_the_limit(self, tmp_path: Path) -> None:
        """An alias bomb is one FILE:LINE problem naming the limit, for every loader."""
        path = tmp_path / "routing.yaml"
        path.write_text(_laughs(9))
        with pytest.raises(ConfigurationError) as info:
            read_config_file(path)
        (problem,) = info.value.problems
        assert isinstance(problem, Problem)
        rendered = problem.render()
        assert rendered.startswith(f"{path}:")
        assert "limit 100000" in rendered
        assert "aliases" in rendered
        with pytest.raises(ConfigurationError, match="limit 100000"):
            load_routing_config(path)

    def test_modest_aliases_still_load(self, tmp_path: Path) -> None:
        """Ordinary anchors and aliases (a few hundred values) load unchanged."""
        path = tmp_path / "ok.yaml"
        path.write_text(_laughs(2))
        data, _ = read_config_file(path)
        assert len(data["routing"]["a2"]) == 9
        assert data["routing"]["a2"][0][0] == ["lol"] * 9

    @pytest.mark.parametrize("depth", range(8))
    def test_limit_is_on_expanded_size(self, depth: int) -> None:
        """Up to 9**5 leaves (under 100000 values) load; 9**6 and more are refused."""
        from pelayanan._config import parse_document

        if depth <= 4:
            data, _ = parse_document(_laughs(depth), suffix=".yaml", source="x.yaml")
            assert len(data["routing"]) == depth + 1
        else:
            with pytest.raises(ConfigurationError, match="limit 100000"):
                parse_document(_laughs(depth), suffix=".yaml", source="x.yaml")


class TestKindErrors:
    def test_tab_indentation(self, tmp_path: Path) -> None:
        """A tab is one line at its line number saying to indent with spaces."""
        path = tmp_path / "tab.yaml"
        path.write_text("id: x\nstates:\n\treceived: {}\n")
        with pytest.raises(ConfigurationError) as info:
            read_config_file(path)
        (problem,) = info.value.problems
        assert isinstance(problem, Problem)
        assert problem.render() == (
            f"{path}:3: $: invalid YAML: a tab character here; indent with spaces, not tabs"
        )

    def test_not_utf8(self, tmp_path: Path) -> None:
        """A Latin-1 file is one line at the bad byte's line saying to save it as UTF-8."""
        path = tmp_path / "latin.yaml"
        path.write_bytes(b'id: x\nname: "caf\xe9"\n')
        with pytest.raises(ConfigurationError) as info:
            read_config_file(path)
        (problem,) = info.value.problems
        assert isinstance(problem, Problem)
        assert problem.line == 2
        assert "byte 0xe9" in problem.message
        assert problem.message.endswith("save the file as UTF-8")

    @pytest.mark.parametrize(
        ("text", "line"),
        [
            ("id: x\nstates: [a, b\nname: y\n", 3),
            ("id: x\nname: 'open\n", 3),
            ("a: b: c\n", 1),
        ],
    )
    def test_invalid_yaml_is_one_line_with_advice(self, text: str, line: int) -> None:
        """Parser errors are one line, located, without parser internals, with advice."""
        with pytest.raises(ConfigurationError) as info:
            parse_document(text, suffix=".yaml", source="f.yaml")
        (problem,) = info.value.problems
        assert isinstance(problem, Problem)
        rendered = problem.render()
        assert "\n" not in rendered
        assert "<unicode string>" not in rendered
        assert problem.line == line
        assert "check the indentation" in rendered
